// Unary AGS events over plaintext gRPC (docs/events.md), built from our own proto files with k6/net/grpc.
import grpc from 'k6/net/grpc';
import { check } from 'k6';
import exec from 'k6/execution';
import { DATA, failures, phase, reqOk, RUN_ID } from './lib.js';
import { arrival, connected } from './grpc_lib.js';

const NAMESPACE = __ENV.NAMESPACE || DATA.namespace;
const LOGIN_METHOD = 'accelbyte.iam.account.v1.UserAuthenticationUserLoggedInService/OnMessage';
const STAT_METHOD = 'accelbyte.social.statistic.v1.StatisticStatItemUpdatedService/OnMessage';
const START_MS = Date.now();

// A k6 scenario that sends events at a constant rate through `exec`.
export function eventArrival(execName, rate, duration) {
  return arrival(execName, rate, duration);
}

// Init context: every VU loads the protos and keeps one connection (opened on its first event).
const client = new grpc.Client();
client.load([__ENV.PROTO_DIR || '../../proto'], 'accelbyte/iam/account/v1/account.proto',
  'accelbyte/social/statistic/v1/statistic.proto');
const state = { connected: false };

// 20 % logins, 80 % stat updates. Stat values grow with the run's age so absolute goals complete.
export function sendEvent(user) {
  connected(client, state);
  const id = `${RUN_ID}-${exec.scenario.name}-${exec.scenario.iterationInTest}`;
  let endpoint;
  let res;
  const ph = phase();
  if (Math.random() < 0.2) {
    endpoint = 'grpc_login';
    res = client.invoke(LOGIN_METHOD, {
      payload: { user_account: { user_id: user, namespace: NAMESPACE } },
      id, version: 1, name: 'userLoggedIn', namespace: NAMESPACE, user_id: user,
      timestamp: new Date().toISOString(),
    }, { tags: { endpoint, phase: ph } });
  } else {
    endpoint = 'grpc_stat';
    const statCode = DATA.statCodes[Math.floor(Math.random() * DATA.statCodes.length)];
    const ageS = (Date.now() - START_MS) / 1000;
    res = client.invoke(STAT_METHOD, {
      payload: {
        namespace: NAMESPACE, stat_code: statCode, user_id: user,
        latest_value: Math.floor(ageS / 2 + Math.random() * 20), inc: 1 + Math.floor(Math.random() * 3),
      },
      id, version: 1, name: 'statItemUpdated', namespace: NAMESPACE, user_id: user,
      timestamp: new Date().toISOString(),
    }, { tags: { endpoint, phase: ph } });
  }
  const ok = res !== null && res.status === grpc.StatusOK;
  check(res, { [`${endpoint} status ok`]: () => ok });
  reqOk.add(ok, { endpoint, phase: ph });
  if (!ok) {
    const status = res ? String(res.status) : 'none';
    const err = res && res.error ? String(res.error.message || res.error).slice(0, 60) : 'GRPC_ERROR';
    failures.add(1, { endpoint, status: `grpc_${status}`, err, phase: ph });
  }
  return ok;
}
