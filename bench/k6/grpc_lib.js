// Shared by the gRPC scripts: where the server is, the arrival-rate scenario and how many connections
// it holds.
export const GRPC_ADDR = __ENV.GRPC_ADDR || '127.0.0.1:6565';
// Open gRPC connections to hold (one per VU, opened on its first call; the VUs take turns, so all of
// them connect). 0: as many as the rate needs.
const CONNECTIONS = Number(__ENV.CONNECTIONS || 0);

// A k6 scenario running `exec` `rate` times per `timeUnit`, with enough VUs for slow answers (or
// exactly CONNECTIONS of them).
export function arrival(execName, rate, duration, timeUnit = '1s') {
  const perSecond = rate / (Number(timeUnit.replace(/s$/, '')) || 1);
  const vus = CONNECTIONS || Math.max(20, Math.ceil(perSecond / 20));
  return {
    executor: 'constant-arrival-rate', exec: execName, rate, timeUnit, duration,
    preAllocatedVUs: vus, maxVUs: CONNECTIONS || Math.max(100, Math.ceil(perSecond / 4)),
  };
}

// Connect `client` on a VU's first call; later calls reuse the connection.
export function connected(client, state) {
  if (!state.connected) {
    client.connect(GRPC_ADDR, { plaintext: true, timeout: '10s' });
    state.connected = true;
  }
  return client;
}
