// `combined` scenario: the api scenario and constant-rate events at the same time.
import { DURATION, SUMMARY_TREND_STATS, thresholds } from './lib.js';
import { apiScenarios } from './api.js';
import { eventArrival } from './grpc_events.js';

export { browse, claim } from './api.js';
export { events } from './events.js';

const EVENT_RATE = Number(__ENV.EVENT_RATE || 500);

export const options = {
  scenarios: Object.assign({}, apiScenarios, { events: eventArrival('events', EVENT_RATE, DURATION) }),
  thresholds: thresholds(['browse', 'claim'], ['grpc_login', 'grpc_stat']),
  summaryTrendStats: SUMMARY_TREND_STATS,
};
