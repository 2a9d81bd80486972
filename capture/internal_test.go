package capture

// What the external tests (package capture_test) need to see inside.

// HandoffMaxBytes is handoffMaxBytes.
const HandoffMaxBytes = handoffMaxBytes

// QueuedBytes returns the bytes of packet data the Handoff counts as queued.
func (h *Handoff) QueuedBytes() int64 { return h.queued.Load() }
