package capture

// What the external tests (package capture_test) need to see inside.

// HandoffMaxBytes is handoffMaxBytes.
const HandoffMaxBytes = handoffMaxBytes

// HeldBytes returns the bytes of the Handoff's batch buffers.
func (h *Handoff) HeldBytes() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held
}
