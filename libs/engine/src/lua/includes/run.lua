--[[
  The run state machine shared by every run-scoped script, by concern:
    globals        redis.call (rcall), cjson, string, type, tonumber, ... as locals, bound by
                   bind_globals(), every script's first statement (scripts.ts)
    clock          now_ms(tag): the namespace's time (Redis server time, plus a test clock offset)
    json           jstr, jint, jobj: attributes assembled from pre-encoded parts
    state          the call (begin_run, the keys, reply codes) and the run state hash, with the
                   legend of every field
    outbox         task descriptors committed for the caller to dispatch (or withdraw)
    deadlines      the shard's deadlines zset and its wake-up jobs
    history        append, record (buffered while a workflow task runs), flush_buffer
    workflow-task  scheduling, starting, unsticking and disarming workflow tasks
    activity       attempts, their deadlines, closing an activity, the retry decision
    lifecycle      closing, settling, retention and deletion of a run, history limits, reply()
  Each include names the includes it needs; every one is emitted once, in dependency order
  (scripts.ts). As a function library they all share one chunk: Lua allows it 200 locals.

  Every run script calls begin_run(KEYS, ARGV) first, ends with `return reply(code, ...)`, and
  takes the same two KEYS and first two ARGV:
    KEYS[1] run state hash `P:{ns:s}:run:<runId>`
    KEYS[2] workflow id hash `P:{ns:s}:wid:<workflowId>` (current run, its status)
    ARGV[1] run id              ARGV[2] pub/sub channel prefix of the namespace
  Every other key of the call is built on the shard's prefix `P:{ns:s}` (KEYS[1] less
  ':run:<runId>'), as keys.ts lays them out: the run's history stream, buffered events and
  pending activities, the shard's outbox, deadlines, wake-ups, visibility indexes, settings and
  workers. The hash tag keeps them in the declared keys' slot (Redis Cluster), and a call
  carries two keys instead of nine to twelve: some 1,300 bytes less per one-activity workflow
  for the client to build and send and for Redis to read and parse (BENCHMARKS.md, "Two keys
  per transition").

  History events are stream entries with id "<eventId>-0" and fields t (type), ts (ms), a (JSON
  attributes), so the stream itself refuses an out-of-order or duplicate event id.

  Scripts never build a BullMQ job themselves (a cluster cannot run one script on two slots):
  they add a task descriptor to the shard outbox and return it; the caller dispatches it and the
  script that consumes the task removes it; a sweep re-dispatches whatever stays behind.
]]
--- @include "clock"
--- @include "json"
--- @include "state"
--- @include "outbox"
--- @include "deadlines"
--- @include "history"
--- @include "workflow-task"
--- @include "activity"
--- @include "lifecycle"
