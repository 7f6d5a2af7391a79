package media

// Wakes is how many times a relay's read was cut short for a whisper.
func (br *Bridge) Wakes() uint64 { return br.wakes.Load() }
