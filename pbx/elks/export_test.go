package elks

// Calls is how many calls the server knows of now.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.legs)
}
