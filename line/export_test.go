package line

// SetActivity lets tests put an agent in an activity the flows reach later (wrap-up).
func (ls *Lines) SetActivity(agent string, a Activity) { ls.setActivity(agent, a) }
