// `sessions` scenario: each VU is one player looping initialize → browse → (60 % random-select 5 with
// exclude_active, 40 % batch-select 3) → check progress → 30 % claim, with think times, while events
// arrive in the background at a constant rate for the same players. The shares, counts and think times
// come from data.json (bench/generate.py), which sizes the goal pool from the same numbers.
import exec from 'k6/execution';
import { sleep } from 'k6';
import { Counter } from 'k6/metrics';
import { api, between, DATA, DURATION, SUMMARY_TREND_STATS, thresholds } from './lib.js';
import { eventArrival, sendEvent } from './grpc_events.js';

const VUS = Number(__ENV.VUS || 150);
const EVENT_RATE = Number(__ENV.EVENT_RATE || 500);
const POOL = DATA.poolChallengeId;
const SESSION = DATA.session;
const claimSkipped = new Counter('claim_skipped');

export const options = {
  scenarios: {
    sessions: { executor: 'constant-vus', exec: 'session', vus: VUS, duration: DURATION, gracefulStop: '15s' },
    events: eventArrival('events', EVENT_RATE, DURATION),
  },
  thresholds: thresholds(['initialize', 'browse', 'random_select', 'batch_select', 'progress', 'claim'],
    ['grpc_login', 'grpc_stat']),
  summaryTrendStats: SUMMARY_TREND_STATS,
};

// Pause after `step` for its think time: the sum of a random draw from each of its (low, high) ranges.
function think(step) {
  sleep(SESSION.thinkS[step].reduce((total, [lo, hi]) => total + between(lo, hi), 0));
}

function player() {
  return `bench-s-${exec.vu.idInTest}`;
}

export function session() {
  const user = player();
  // Players arrive spread over the first 10 s instead of 150 initializes in the same millisecond.
  if (exec.vu.iterationInScenario === 0) sleep(Math.random() * 10);
  api('POST', 'initialize', '/v1/challenges/initialize', {}, user);
  think('initialize');
  api('GET', 'browse', '/v1/challenges', null, user);
  think('browse');
  if (Math.random() < SESSION.randomSelectShare) {
    api('POST', 'random_select', `/v1/challenges/${POOL}/goals/random-select`,
      { count: SESSION.randomSelectCount, replace_existing: false, exclude_active: true }, user);
  } else {
    api('POST', 'batch_select', `/v1/challenges/${POOL}/goals/batch-select`,
      { goal_ids: DATA.batchGoalIds, replace_existing: false }, user);
  }
  think('select');
  const progress = api('GET', 'progress', `/v1/challenges/${POOL}`, null, user);
  think('progress');
  if (Math.random() < SESSION.claimAttemptShare) {
    let goal = null;
    if (progress) {
      const goals = progress.json('goals') || [];
      goal = goals.find((g) => g.status === 'completed' && g.isActive);
    }
    if (goal) {
      api('POST', 'claim', `/v1/challenges/${POOL}/goals/${goal.goalId}/claim`, {}, user);
    } else {
      claimSkipped.add(1);
    }
  }
  think('claim');
}

// Background events go to the session players (VU ids 1..VUS, most of which are session VUs).
export function events() {
  sendEvent(`bench-s-${1 + Math.floor(Math.random() * VUS)}`);
}
