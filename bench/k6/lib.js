// Shared by every scenario: bench data, the HTTP helper that records failures by status and errorCode,
// and the SPEC §10 thresholds. Everything is configured through environment variables set by bench/run.py.
import http from 'k6/http';
import { check } from 'k6';
import { Counter, Rate } from 'k6/metrics';

export const DATA = JSON.parse(open(__ENV.BENCH_DATA));
export const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8000/challenge';
export const DURATION = __ENV.DURATION || '60s';
export const RUN_ID = __ENV.RUN_ID || 'bench';

// One point per failed call, tagged with the endpoint, HTTP status (or gRPC status) and errorCode, so the
// report can group failures; `req_ok` gives the success rate per endpoint.
export const failures = new Counter('failures');
export const reqOk = new Rate('req_ok');

export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'];

// SPEC §10 per-endpoint p95 limits (ms). Endpoints without a limit still get a no-op threshold so that k6
// exports their sub-metric in the summary.
const HTTP_P95 = {
  initialize: 100,
  browse: 500,
  progress: 500,
  batch_select: 50,
  random_select: 50,
  claim: 100,
};

export function thresholds(httpEndpoints, grpcEndpoints) {
  const t = {};
  if (httpEndpoints.length) {
    t.http_req_duration = ['p(95)<2000'];
    t.http_req_failed = ['rate<0.01'];
    t.checks = ['rate>0.99'];
  }
  for (const e of httpEndpoints) {
    t[`http_req_duration{endpoint:${e}}`] = HTTP_P95[e] ? [`p(95)<${HTTP_P95[e]}`] : ['max>=0'];
    t[`req_ok{endpoint:${e}}`] = ['rate>=0'];
  }
  if (grpcEndpoints.length) {
    t.grpc_req_duration = ['p(95)<500'];
    if (!httpEndpoints.length) t.checks = ['rate>0.99'];
  }
  for (const e of grpcEndpoints) {
    t[`grpc_req_duration{endpoint:${e}}`] = ['max>=0'];
    t[`req_ok{endpoint:${e}}`] = ['rate>=0'];
  }
  return t;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

// One REST call as `user`; `expected` lists the statuses that count as success.
export function api(method, endpoint, path, body, user, expected = [200]) {
  const res = http.request(method, `${BASE_URL}${path}`, body === null ? null : JSON.stringify(body), {
    headers: Object.assign({ 'X-Mock-User-Id': user }, JSON_HEADERS),
    tags: { endpoint },
    responseCallback: http.expectedStatuses(...expected),
  });
  const ok = expected.includes(res.status);
  check(res, { [`${endpoint} status ok`]: () => ok });
  reqOk.add(ok, { endpoint });
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
    failures.add(1, { endpoint, status: String(res.status), err: code });
  }
  return ok ? res : null;
}

export function between(lo, hi) {
  return lo + Math.random() * (hi - lo);
}

export function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}
