package session

// Exchange records everything about one request. (Filled in by exchange.go.)
type Exchange struct{}
