// The tenant database, reached with psql (there is no Postgres driver in node_modules and the
// client under test must not need one). RT_DB_URL is set by test/conformance/changes_test.go.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

function dbURL() {
  const v = process.env.RT_DB_URL
  if (!v) throw new Error('RT_DB_URL is not set; run through "go test -run TestDatabaseJS ./test/conformance/"')
  return v
}

// sql runs one statement (or a semicolon-separated script) in its own transaction and returns the
// unaligned, tuples-only output: one line per row, columns separated by '|'. url defaults to
// RT_DB_URL.
export async function sql(query, { url = dbURL() } = {}) {
  try {
    const { stdout } = await run('psql', [url, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', query], {
      timeout: 15000,
      env: { ...process.env, PGCLIENTENCODING: 'UTF8' },
    })
    return stdout.trim()
  } catch (err) {
    throw new Error(`psql failed: ${err.stderr || err.message}\nquery: ${query}`)
  }
}

// sqlIds runs an INSERT ... RETURNING id and returns the ids as numbers.
export async function sqlIds(query) {
  const out = await sql(query)
  return out === '' ? [] : out.split('\n').map(Number)
}

// lit quotes a string as an SQL literal.
export function lit(s) {
  return `'${String(s).replace(/'/g, "''")}'`
}

// wire normalises a recorded text frame (V2 array or V1 object) to {join_ref, ref, topic, event, payload}.
export function wire(f) {
  return Array.isArray(f) ? { join_ref: f[0], ref: f[1], topic: f[2], event: f[3], payload: f[4] } : f
}

// framesOf returns the text frames the client received with the given event, normalised.
export function framesOf(client, event) {
  return client.frames
    .parsed('<')
    .filter((f) => f && typeof f === 'object')
    .map(wire)
    .filter((f) => f.event === event)
}

// joinReply returns the reply to the (last) phx_join realtime-js sent for sub-topic.
export function joinReply(client, subTopic) {
  const wireTopic = `realtime:${subTopic}`
  const joins = client.frames
    .parsed('>')
    .filter((f) => f && typeof f === 'object')
    .map(wire)
    .filter((f) => f.event === 'phx_join' && f.topic === wireTopic)
  const join = joins[joins.length - 1]
  if (!join) return undefined
  return framesOf(client, 'phx_reply').find((f) => f.topic === wireTopic && f.ref === join.ref)
}
