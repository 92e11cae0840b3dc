package server

import "gdbserverx/rsp"

// Threads that exit between a stop and the next resume. A client is told
// a stop, and the threads it resumes may be gone by the time it resumes:
// a thread called exit_group while the world stopped, and the kernel
// killed the others in their stops (issue 19: Delve stepped the thread
// of the breakpoint it was told; the thread was gone; the resume named
// no live thread and Delve got E05). In all-stop mode, stops of threads
// that are gone are not told (stillTrue; non-stop mode keeps its own
// account of each thread, nonstop.go), and a resume that names no live
// thread is answered, not failed.

// noneResumed answers the running clients when their resume requests
// name no live thread of any process. When a process has no thread left
// at all, its end is on its way (the last thread's status, then the
// process's): they wait for it, and are told W or X. Otherwise a client
// that announced no-resumed+ in qSupported gets N, "no thread is left to
// resume" (GDB manual, "Stop Reply Packets"), as gdbserver answers, and
// Delve reads as "the thread I stepped has exited"; the others get E03,
// ESRCH: the thread just exited. They hold the processes again.
func noneResumed(s *Server) {
	for _, p := range s.procs {
		if len(p.threads) == 0 {
			s.log.debugf("no live thread: waiting for the end of process %d", p.pid)
			p.running = true
			return
		}
	}
	told := s.clients.inState(clientRunning)
	for _, c := range told {
		s.log.debugf("client #%d resumed only threads that have exited", c.id)
		c.resume = nil
		c.interrupted = false
		c.setState(clientStopped)
		if c.noResumed {
			r := rsp.StopReply{Kind: rsp.StopNoResumed}
			c.reply(r.AppendPayload(c.scratch()))
		} else {
			c.replyError(rsp.CodeNoProcess)
		}
	}
	for _, c := range told {
		c.serveQueued()
	}
}

// goneStop says a stop is no news any more: its thread has exited since,
// and a breakpoint, a step, a watchpoint hit or a signal of a thread that
// is gone cannot be resumed from.
func goneStop(p *process, st *stop) bool {
	switch st.kind {
	case stopBreak, stopStep, stopWatch, stopSignal:
		return !p.has(st.tid)
	}
	return false
}
