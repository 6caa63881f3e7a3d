// Environment handed over by the Go harness (conformance_test.go). Everything a scenario needs to
// reach the node under test comes from here; nothing is hard-coded.
import { createHmac } from 'node:crypto'

function need(name) {
  const v = process.env[name]
  if (v === undefined || v === '') {
    throw new Error(`environment variable ${name} is not set; run the suite through "go test ./test/conformance/"`)
  }
  return v
}

// Values are read lazily, so a scenario file run by another Go test (e.g. Postgres Changes) only
// needs the variables it actually uses.
const lazy = (name) => ({ get: () => need(name), enumerable: true })

export const env = Object.defineProperties(
  { tokens: {}, hosts: {}, reloadable: {} },
  {
    // Node origin, e.g. http://127.0.0.1:41234 (default tenant resolved by --default-tenant).
    httpURL: lazy('RT_HTTP_URL'),
    // WebSocket endpoint as realtime-js expects it (it appends /websocket).
    wsURL: lazy('RT_WS_URL'),
    // The default tenant's HS256 secret, for tokens whose lifetime must start inside a scenario.
    secret: lazy('RT_JWT_SECRET'),
    // The tenants file the node watches (scenarios may edit it to test reloads).
    tenantsFile: lazy('RT_TENANTS_FILE'),
    // Valid token for every extra tenant (they share a secret different from the default one).
    otherToken: lazy('RT_TOKEN_OTHER'),
    limitedPayloadKB: { get: () => Number(need('RT_LIMITED_PAYLOAD_KB')), enumerable: true },
  }
)

Object.defineProperties(env.tokens, {
  valid: lazy('RT_TOKEN'),
  valid2: lazy('RT_TOKEN_2'),
  expired: lazy('RT_TOKEN_EXPIRED'),
  badSignature: lazy('RT_TOKEN_BAD_SIGNATURE'),
  noRole: lazy('RT_TOKEN_NO_ROLE'),
  malformed: { value: 'not-a-jwt', enumerable: true },
})

// Extra tenants of the test tenants file, reached through a Host header (docs/protocol.md#tenant-from-host).
Object.defineProperties(env.hosts, {
  limited: lazy('RT_HOST_LIMITED'),
  suspended: lazy('RT_HOST_SUSPENDED'),
  unknown: lazy('RT_HOST_UNKNOWN'),
  oneUser: lazy('RT_HOST_ONE_USER'),
  rateLimited: lazy('RT_HOST_RATE_LIMITED'),
  joinLimited: lazy('RT_HOST_JOIN_LIMITED'),
  reloadable: lazy('RT_HOST_RELOADABLE'),
})

// The tenant whose secret js/tenants.test.mjs rotates in the tenants file.
Object.defineProperties(env.reloadable, { secret: lazy('RT_RELOADABLE_SECRET') })

function b64url(buf) {
  return Buffer.from(buf).toString('base64url')
}

// signHS256 mints a JWT; used for tokens whose expiry is relative to the moment of use.
export function signHS256(claims, secret = env.secret) {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
  const body = b64url(JSON.stringify(claims))
  const sig = createHmac('sha256', secret).update(`${header}.${body}`).digest()
  return `${header}.${body}.${b64url(sig)}`
}

export function tokenExpiringIn(seconds, extra = {}) {
  const now = Math.floor(Date.now() / 1000)
  return signHS256({ role: 'anon', iat: now, exp: now + seconds, ...extra })
}
