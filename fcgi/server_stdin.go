// Server, input: the STDIN and DATA streams of a request, buffered between the
// reading loop and the handler.

package fcgi

import (
	"io"
	"sync"
)

// inputStream is the STDIN or DATA stream of one request: the connection's
// reader loop appends what arrives, the handler reads it. Content is kept in
// chunks that are reused once read, and WriteTo hands whole chunks to the
// destination (io.Copy from ServerRequest.Stdin uses it), so a long stream
// costs no allocation per record.
type inputStream struct {
	mu      sync.Mutex
	chunks  [][]byte // unread content in order from chunks[first][head:]
	first   int
	head    int
	size    int      // unread bytes
	spare   [][]byte // read chunks, for reuse
	err     error    // io.EOF after the empty record, or why the stream failed
	dropped bool     // the handler returned: input is discarded
	// Wake-up tokens (capacity 1), made by the first to wait: readable
	// for readers (data or the end), writable for the reader loop (room).
	readable, writable chan struct{}
	// pool holds the Server's large chunks (*[inputChunk]byte), shared
	// by the requests that follow one another; nil: no sharing.
	pool *sync.Pool
	// First arrays of chunks and spare.
	chunkArr [8][]byte
	spareArr [maxSpare][]byte
}

// Chunk sizes of an inputStream.
const (
	minInputChunk = 4 << 10  // small records share chunks of this size
	inputChunk    = 64 << 10 // the chunk of a large record, from Server's pool
	maxSpare      = 4        // read chunks a stream keeps for reuse
)

// post leaves a wake-up token in ch, if anybody ever waited on it.
func post(ch chan struct{}) {
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// waitReadable returns the readers' token channel; s.mu is held.
func (s *inputStream) waitReadable() chan struct{} {
	if s.readable == nil {
		s.readable = make(chan struct{}, 1)
	}
	return s.readable
}

// Read reads what has arrived, waiting for more until the stream ends.
func (s *inputStream) Read(p []byte) (int, error) {
	s.mu.Lock()
	for {
		if s.size > 0 && len(p) > 0 {
			n := 0
			for n < len(p) && s.size > 0 {
				k := copy(p[n:], s.chunks[s.first][s.head:])
				n += k
				s.head += k
				s.size -= k
				if s.head == len(s.chunks[s.first]) {
					s.recycle(s.popChunk())
				}
			}
			if s.size > 0 {
				post(s.readable)
			}
			post(s.writable)
			s.mu.Unlock()
			return n, nil
		}
		if s.err != nil || len(p) == 0 {
			err := s.err
			post(s.readable) // wake the next reader too
			s.mu.Unlock()
			return 0, err
		}
		ch := s.waitReadable()
		s.mu.Unlock()
		<-ch
		s.mu.Lock()
	}
}

// WriteTo writes the stream to dst until it ends, handing each chunk of
// content over as it came, without copying it. It returns nil at the end of
// the stream (io.EOF), or the error that ended it.
func (s *inputStream) WriteTo(dst io.Writer) (int64, error) {
	var total int64
	s.mu.Lock()
	for {
		if s.size > 0 {
			c := s.chunks[s.first][s.head:]
			chunk := s.popChunk()
			s.size -= len(c)
			post(s.writable)
			s.mu.Unlock()
			n, err := dst.Write(c)
			total += int64(n)
			if err == nil && n < len(c) {
				err = io.ErrShortWrite
			}
			s.mu.Lock()
			s.recycle(chunk)
			if err != nil {
				s.mu.Unlock()
				return total, err
			}
			continue
		}
		if s.err != nil {
			err := s.err
			post(s.readable)
			s.mu.Unlock()
			if err == io.EOF {
				err = nil
			}
			return total, err
		}
		ch := s.waitReadable()
		s.mu.Unlock()
		<-ch
		s.mu.Lock()
	}
}

// popChunk removes the first chunk and returns it; s.mu is held.
func (s *inputStream) popChunk() []byte {
	c := s.chunks[s.first]
	s.chunks[s.first] = nil
	s.first++
	if s.first == len(s.chunks) {
		s.chunks, s.first = s.chunks[:0], 0
	}
	s.head = 0
	return c
}

// recycle keeps a read chunk for reuse; s.mu is held.
func (s *inputStream) recycle(c []byte) {
	if len(s.spare) < maxSpare && !s.dropped {
		if s.spare == nil {
			s.spare = s.spareArr[:0]
		}
		s.spare = append(s.spare, c[:0])
		return
	}
	s.release(c)
}

// release gives a chunk of the shared size back to the Server's pool.
func (s *inputStream) release(c []byte) {
	if s.pool != nil && cap(c) == inputChunk {
		s.pool.Put((*[inputChunk]byte)(c[:inputChunk]))
	}
}

// add appends a copy of p; s.mu is held.
func (s *inputStream) add(p []byte) {
	if n := len(s.chunks); n > s.first {
		if last := s.chunks[n-1]; cap(last)-len(last) >= len(p) {
			s.chunks[n-1] = append(last, p...)
			s.size += len(p)
			return
		}
	}
	var c []byte
	for i := len(s.spare) - 1; i >= 0; i-- {
		if cap(s.spare[i]) >= len(p) {
			c = s.spare[i]
			s.spare[i] = s.spare[len(s.spare)-1]
			s.spare[len(s.spare)-1] = nil
			s.spare = s.spare[:len(s.spare)-1]
			break
		}
	}
	if c == nil && len(p) > minInputChunk && s.pool != nil {
		if a, _ := s.pool.Get().(*[inputChunk]byte); a != nil {
			c = a[:0]
		} else {
			c = make([]byte, 0, inputChunk)
		}
	}
	if c == nil {
		c = make([]byte, 0, max(len(p), minInputChunk))
	}
	if s.chunks == nil {
		s.chunks = s.chunkArr[:0]
	}
	s.chunks = append(s.chunks, append(c, p...))
	s.size += len(p)
}

// write appends p, waiting while more than maxBufferedInput bytes are
// unread, until the handler reads, the stream ends (the request is aborted
// or its handler returned) or done is closed. It reports false if the
// stream had already ended.
func (s *inputStream) write(p []byte, done <-chan struct{}) bool {
	s.mu.Lock()
	for {
		if s.dropped {
			s.mu.Unlock()
			return true
		}
		if s.err != nil {
			ended := s.err == io.EOF
			s.mu.Unlock()
			return !ended
		}
		if s.size == 0 || s.size+len(p) <= maxBufferedInput {
			s.add(p)
			post(s.readable)
			s.mu.Unlock()
			return true
		}
		if s.writable == nil {
			s.writable = make(chan struct{}, 1)
		}
		ch := s.writable
		s.mu.Unlock()
		select {
		case <-ch:
		case <-done:
			return true
		}
		s.mu.Lock()
	}
}

// closeWith ends the stream with err (io.EOF for the empty record); false
// if it had already ended, unless the handler returned: then what still
// arrives is dropped without complaint, as write does (the reader may have
// looked the request up just before its handler returned).
func (s *inputStream) closeWith(err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dropped {
		return true
	}
	if s.err != nil {
		return false
	}
	s.err = err
	post(s.readable)
	post(s.writable)
	return true
}

// discard drops what is buffered and everything that still arrives.
func (s *inputStream) discard() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropped = true
	for _, c := range s.chunks[s.first:] {
		s.release(c)
	}
	for _, c := range s.spare {
		s.release(c)
	}
	clear(s.chunks)
	clear(s.spare)
	s.chunks, s.spare, s.first, s.head, s.size = nil, nil, 0, 0, 0
	if s.err == nil {
		s.err = io.ErrClosedPipe
	}
	post(s.readable)
	post(s.writable)
}

// eofReader is the empty DATA stream of a request that has none.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
