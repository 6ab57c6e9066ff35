package export

// OnProgress sets the hook called at every progress report of the render
// phase (every 1 000 rows).
func OnProgress(s *Service, fn func(done int64)) { s.onProgress = fn }
