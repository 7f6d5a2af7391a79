package line

// SetActivity lets tests put an agent in an activity the flows reach later (wrap-up).
func (ls *Lines) SetActivity(agent string, a Activity) { ls.setActivity(agent, a) }

// Callbacks is how many agents' last callers peerline still remembers.
func (ls *Lines) Callbacks() int {
	ls.callbacks.mu.Lock()
	defer ls.callbacks.mu.Unlock()
	return len(ls.callbacks.last)
}
