--[[
  Completes a workflow task with the commands the workflow code produced, in one fenced append:
  [WorkflowTaskScheduled, WorkflowTaskStarted (transient attempt only)], WorkflowTaskCompleted,
  one event per command, then the events buffered while the task ran. Schedules the next
  workflow task (on this worker's sticky queue) when there is something new to process.

  KEYS[1..2]  run keys (see includes/run.lua)
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     task token
  ARGV[4]     worker identity
  ARGV[5]     worker id (its sticky queue, and the worker of eager activities)
  ARGV[6]     sticky schedule-to-start timeout (ms), 0 for no stickiness
  ARGV[7]     last event id the commands were computed against (the fence)
  ARGV[8]     number of commands N, followed by N triples:
              event type, event attributes (JSON), engine metadata (JSON). Attributes may come
              stored already (encoded: includes/history.lua), with their JSON's length in bytes as
              metadata `bytes`; those of a command that closes the run or rejects an update do not.
              The metadata by type:
                ActivityTaskScheduled        { id, type, tq, s2c, s2s, stc, hb, rp = { ii, bc, mi, ma, nr }, eager }
                                             (eager = 1: this worker starts the first attempt itself, no job)
                TimerStarted                 { ms, timerId }
                StartChildWorkflowExecutionInitiated  { wid, type, pcp }  (the child's workflow id,
                                             type, parent close policy)
                TimerCanceled                { sid }   (the TimerStarted event id)
                ActivityTaskCancelRequested  { sid }   (the ActivityTaskScheduled event id)
                WorkflowExecution{Completed,Canceled}  {}
                WorkflowExecutionFailed      { kind, type, nonRetryable }: the failure's facts, for
                                             the workflow's retry policy (run-start.lua)
                WorkflowExecutionContinuedAsNew  { rid, attrs, type, tq, wfto, rto, bof, tpl }: the
                                             new run (run-start.lua finish_run), created with the close
                WorkflowExecutionUpdateAccepted  { uid }   (the update id; updates.lua)
                WorkflowExecutionUpdateCompleted { uid }
                WorkflowExecutionUpdateRejected  { uid }   (no event: the attributes, {"failure": ...},
                                             are kept for the update's caller)
                MarkerRecorded               {}   (nothing to apply: the event is the record, read on
                                             replay; e.g. workflow.patched's `core_patch`)
  ARGV[9 + 3N] "1": workflow task heartbeat (Temporal's force_create_new_workflow_task; local
              activities are still running in this worker): the next workflow task is scheduled
              even without new events and taken at once by this worker (sticky to it), whose
              reply carries it. Absent or "" otherwise.
  ARGV[10 + 3N] the time (ms) a worker took the task, when it ran the task without starting it: the
              run's first task, whose history so far its job carries (startWorkflow). The task is
              taken here (take_wft, includes/workflow-task.lua; the fence is the
              WorkflowTaskStarted event id the worker expected); E_STALE, with nothing written,
              when it cannot be. Absent or '' for a task started by startWorkflowTask.
  ARGV[11 + 3N] with ARGV[10 + 3N]: the queue the job came from

  A speculative task (updates.lua) whose commands are only rejections, and that saw no new event,
  writes nothing at all (not even its WorkflowTask events): `discarded` = 1 in the reply.

  Returns reply(1, lastEventId, startedActivities, discarded, nextTask) where startedActivities
  lists, for each eager activity, its scheduled event id and state (JSON), and nextTask, after a
  heartbeat, is the task this worker took: { token, attempt, startedEventId, events from this
  task's WorkflowTaskCompleted, update requests (updates.lua) }; E_STALE when the fence does not hold;
  E_UNKNOWN_COMMAND with the event type when a command is not one of COMMANDS below (nothing is
  written; the task stays started); E_UNHANDLED_COMMAND when the commands close the run while new
  events or update requests wait (the task is failed and scheduled again).
]]
--- @include "workflow-task-completion"
begin_run(KEYS, ARGV)
return reply(complete_workflow_task(ARGV))
