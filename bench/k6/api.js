// `api` scenario: constant-rate GET challenges (80 %) and claim (20 %; CLAIM_SHARE) for seeded users with 10 active goals.
// Claim i goes to user i mod U, completed slot ⌊i / U⌋, so no goal is claimed twice while the seeded
// claimable goals last (bench/generate.py sizes U from the planned rate and duration). With BROWSE_ONLY
// set it is one step of the api step search: GET challenges alone, WARMUP_S tagged phase=warmup.
import exec from 'k6/execution';
import { api, DATA, DURATION, steadyExports, SUMMARY_TREND_STATS, thresholds, pick } from './lib.js';

const RATE = Number(__ENV.REQUEST_RATE || 1000);
// The run's CLAIM_SHARE (bench/run.py; 0 measures GET challenges alone), which also sized the users.
const CLAIM_SHARE = __ENV.BROWSE_ONLY ? 0 : DATA.claimShare;
const WARMUP_S = Number(__ENV.WARMUP_S || 0);
const RUN_FOR = `${Number(DURATION.replace(/s$/, '')) + WARMUP_S}s`;
const USERS = DATA.apiUsers;
const SLOTS = DATA.claimSlots;

function arrival(execName, rate) {
  return {
    executor: 'constant-arrival-rate', exec: execName, rate: Math.max(1, Math.round(rate)), timeUnit: '1s',
    duration: RUN_FOR, preAllocatedVUs: Math.max(10, Math.ceil(rate / 20)),
    maxVUs: Math.max(50, Math.ceil(rate / 2)),
  };
}

export const apiScenarios = CLAIM_SHARE > 0
  ? { browse: arrival('browse', RATE * (1 - CLAIM_SHARE)), claim: arrival('claim', RATE * CLAIM_SHARE) }
  : { browse: arrival('browse', RATE) };

export const options = {
  scenarios: apiScenarios,
  thresholds: Object.assign(
    thresholds(CLAIM_SHARE > 0 ? ['browse', 'claim'] : ['browse'], []), WARMUP_S ? steadyExports('http') : {},
  ),
  summaryTrendStats: SUMMARY_TREND_STATS,
};

export function browse() {
  api('GET', 'browse', '/v1/challenges', null, pick(USERS));
}

export function claim() {
  const i = exec.scenario.iterationInTest;
  const user = USERS[i % USERS.length];
  const slot = SLOTS[Math.floor(i / USERS.length) % SLOTS.length];
  api('POST', 'claim', `/v1/challenges/${slot.challengeId}/goals/${slot.goalId}/claim`, {}, user);
}
