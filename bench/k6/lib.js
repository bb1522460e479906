// Shared by every scenario: bench data, the HTTP helper that records failures by status and errorCode,
// and the thresholds. Everything is configured through environment variables set by bench/run.py.
import http from 'k6/http';
import { check } from 'k6';
import exec from 'k6/execution';
import { Counter, Rate } from 'k6/metrics';

export const DATA = JSON.parse(open(__ENV.BENCH_DATA));
export const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8000/challenge';
export const DURATION = __ENV.DURATION || '60s';
export const RUN_ID = __ENV.RUN_ID || 'bench';

// One point per failed call, tagged with the endpoint, HTTP status (or gRPC status) and errorCode, so the
// report can group failures; `req_ok` gives the success rate per endpoint.
export const failures = new Counter('failures');
export const reqOk = new Rate('req_ok');

// Calls in the first WARMUP_S seconds of a scenario are tagged phase=warmup (connections opening, VUs
// allocating); the step search judges only phase=steady.
const WARMUP_MS = Number(__ENV.WARMUP_S || 0) * 1000;

export function phase() {
  return Date.now() - exec.scenario.startTime < WARMUP_MS ? 'warmup' : 'steady';
}

export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'];

// The pass/fail limits, defined in bench/limits.py (K6_THRESHOLDS) and handed over by bench/run.py.
const LIMITS = JSON.parse(__ENV.BENCH_THRESHOLDS);
// k6 exports a sub-metric in --summary-export only when it has a threshold: endpoints without a limit get
// one that cannot fail, and the report leaves those out of its verdict.
const EXPORT_TREND = ['max>=0'];
const EXPORT_RATE = ['rate>=0'];

// The thresholds for a script whose calls are tagged with these HTTP and gRPC endpoints.
export function thresholds(httpEndpoints, grpcEndpoints) {
  const t = Object.assign({}, LIMITS.any);
  if (httpEndpoints.length) Object.assign(t, LIMITS.http);
  if (grpcEndpoints.length) Object.assign(t, LIMITS.grpc);
  for (const [kind, endpoints] of [['http', httpEndpoints], ['grpc', grpcEndpoints]]) {
    for (const e of endpoints) {
      t[`${kind}_req_duration{endpoint:${e}}`] = LIMITS.endpoints[e] || EXPORT_TREND;
      t[`req_ok{endpoint:${e}}`] = EXPORT_RATE;
    }
  }
  return t;
}

// Sub-metrics of the calls made after the warm-up (tagged phase=steady), on which a step of a step
// search is judged; `kind` is 'http' or 'grpc'.
export function steadyExports(kind) {
  return {
    [`${kind}_req_duration{phase:steady}`]: EXPORT_TREND,
    'req_ok{phase:steady}': EXPORT_RATE,
    'failures{phase:steady}': ['count>=0'],
  };
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

// One REST call as `user`; `expected` lists the statuses that count as success.
export function api(method, endpoint, path, body, user, expected = [200]) {
  const tags = { endpoint, phase: phase() };
  const res = http.request(method, `${BASE_URL}${path}`, body === null ? null : JSON.stringify(body), {
    headers: Object.assign({ 'X-Mock-User-Id': user }, JSON_HEADERS),
    tags,
    responseCallback: http.expectedStatuses(...expected),
  });
  const ok = expected.includes(res.status);
  check(res, { [`${endpoint} status ok`]: () => ok });
  reqOk.add(ok, tags);
  if (!ok) {
    let code = 'NONE';
    if (res.status === 0) {
      code = `NETWORK_${res.error_code || 0}`;
    } else {
      try {
        code = res.json('errorCode') || 'NONE';
      } catch (_) {
        code = 'NOT_JSON';
      }
    }
    failures.add(1, { endpoint, status: String(res.status), err: code, phase: tags.phase });
  }
  return ok ? res : null;
}

export function between(lo, hi) {
  return lo + Math.random() * (hi - lo);
}

export function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}
