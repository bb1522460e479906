// `batch` scenario: constant-rate batch calls (challenge.events.v1.EventIngest/Publish, docs/events-batch.md) of
// BATCH_SIZE events each — 20 % logins, 80 % stat updates over the players of data.json — at EVENT_RATE
// events per second. Also one step of the batch step search (bench/run.py sets EVENT_RATE per step and
// points GRPC_ADDR at the service or the do-nothing baseline).
import grpc from 'k6/net/grpc';
import { check } from 'k6';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
import {
  DATA, DURATION, failures, phase, pick, reqOk, RUN_ID, steadyExports, SUMMARY_TREND_STATS, thresholds,
} from './lib.js';
import { arrival, connected } from './grpc_lib.js';

const RATE = Number(__ENV.EVENT_RATE || 10000);
const BATCH_SIZE = Number(__ENV.BATCH_SIZE || 100);
const WARMUP_S = Number(__ENV.WARMUP_S || 0);
const RUN_FOR = `${Number(DURATION.replace(/s$/, '')) + WARMUP_S}s`;
const USERS = DATA.apiUsers.length ? DATA.apiUsers : ['bench-events-user'];
const METHOD = 'challenge.events.v1.EventIngest/Publish';
const START_MS = Date.now();
// Events answered OK, by kind: the report counts acknowledged logins against the database.
const eventsOk = new Counter('events_ok');

export const options = {
  // RATE events per second = RATE calls per BATCH_SIZE seconds.
  scenarios: { batch: arrival('batch', RATE, RUN_FOR, `${BATCH_SIZE}s`) },
  thresholds: Object.assign(thresholds([], ['grpc_batch']), steadyExports('grpc'), {
    'events_ok{kind:login}': ['count>=0'],
    'events_ok{kind:stat}': ['count>=0'],
  }),
  summaryTrendStats: SUMMARY_TREND_STATS,
};

const client = new grpc.Client();
client.load([__ENV.PROTO_DIR || '../../proto'], 'challenge/events/v1/events.proto');
const state = { connected: false };

// Stat values grow with the run's age so absolute goals complete.
function events(call) {
  const ageS = (Date.now() - START_MS) / 1000;
  const made = [];
  for (let i = 0; i < BATCH_SIZE; i++) {
    const id = `${RUN_ID}-${call}-${i}`;
    const user = pick(USERS);
    if (Math.random() < 0.2) {
      made.push({ id, user_id: user, login: {} });
    } else {
      made.push({
        id, user_id: user,
        stat: {
          stat_code: pick(DATA.statCodes), latest_value: Math.floor(ageS / 2 + Math.random() * 20),
          inc: 1 + Math.floor(Math.random() * 3),
        },
      });
    }
  }
  return made;
}

export function batch() {
  connected(client, state);
  const sent = events(`${exec.scenario.name}-${exec.scenario.iterationInTest}`);
  const ph = phase();
  const tags = { endpoint: 'grpc_batch', phase: ph };
  const res = client.invoke(METHOD, { events: sent }, { tags });
  const callOk = res !== null && res.status === grpc.StatusOK;
  // A result with code 0 is an empty message: only the others carry fields.
  const refused = callOk ? res.message.results.filter((r) => r.code) : [];
  const ok = callOk && refused.length === 0;
  check(res, { 'grpc_batch all events ok': () => ok });
  reqOk.add(ok, tags);
  if (!callOk) {
    const status = res ? String(res.status) : 'none';
    const err = res && res.error ? String(res.error.message || res.error).slice(0, 60) : 'GRPC_ERROR';
    failures.add(1, { endpoint: 'grpc_batch', status: `grpc_${status}`, err, phase: ph });
    return;
  }
  let okLogins = 0;
  res.message.results.forEach((r, i) => {
    if (r.code) {
      failures.add(1, { endpoint: 'grpc_batch', status: `event_${r.code}`, err: String(r.message).slice(0, 60), phase: ph });
    } else if (sent[i].login) {
      okLogins++;
    }
  });
  eventsOk.add(okLogins, { kind: 'login', phase: ph });
  eventsOk.add(sent.length - refused.length - okLogins, { kind: 'stat', phase: ph });
}
