// `events` scenario: constant-rate unary gRPC events (also one step of the step search, run by bench/run.py
// with EVENT_RATE set per step and GRPC_ADDR pointed at the service or the do-nothing baseline).
import { DATA, DURATION, SUMMARY_TREND_STATS, steadyExports, thresholds, pick } from './lib.js';
import { eventArrival, sendEvent } from './grpc_events.js';

const RATE = Number(__ENV.EVENT_RATE || 500);
const WARMUP_S = Number(__ENV.WARMUP_S || 0);
const RUN_FOR = `${Number(DURATION.replace(/s$/, '')) + WARMUP_S}s`;
const USERS = DATA.apiUsers.length ? DATA.apiUsers : ['bench-events-user'];

export const options = {
  scenarios: { events: eventArrival('events', RATE, RUN_FOR) },
  thresholds: Object.assign(thresholds([], ['grpc_login', 'grpc_stat']), steadyExports('grpc')),
  summaryTrendStats: SUMMARY_TREND_STATS,
  discardResponseBodies: true,
};

export function events() {
  sendEvent(pick(USERS));
}
