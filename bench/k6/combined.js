// `combined` scenario: the api scenario and constant-rate events at the same time.
import { DURATION, SUMMARY_TREND_STATS, thresholds } from './lib.js';
import { apiScenarios } from './api.js';

export { browse, claim } from './api.js';
export { events } from './events.js';

const EVENT_RATE = Number(__ENV.EVENT_RATE || 500);

export const options = {
  scenarios: Object.assign({}, apiScenarios, {
    events: {
      executor: 'constant-arrival-rate', exec: 'events', rate: EVENT_RATE, timeUnit: '1s', duration: DURATION,
      preAllocatedVUs: Math.max(20, Math.ceil(EVENT_RATE / 20)), maxVUs: Math.max(100, Math.ceil(EVENT_RATE / 4)),
    },
  }),
  thresholds: thresholds(['browse', 'claim'], ['grpc_login', 'grpc_stat']),
  summaryTrendStats: SUMMARY_TREND_STATS,
};
