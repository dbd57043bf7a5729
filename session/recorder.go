// Recorder: finished exchanges written into a folder as Exchange files by a
// goroutine of its own, through a bounded queue, so that recording never
// holds up the request that produced them.

package session

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Recorder defaults.
const (
	DefaultRecorderQueue      = 1024
	DefaultRecorderQueueBytes = 64 << 20
)

// recorderReportEvery is how often at most the Recorder reports exchanges it
// dropped.
const recorderReportEvery = time.Second

// recorderBatchDelay is how long the Recorder's goroutine waits, once it
// has written every exchange queued, before it looks again. Waiting on
// the queue instead, it was woken up by every exchange under load, which
// costs the request that queued it a wake-up of a sleeping goroutine
// (a system call, often); it now wakes up once per delay and writes what
// came meanwhile. An exchange reaches the disk at most about that late,
// and Flush and Close wait as much longer. At the default queue of 1024,
// the queue fills within one delay only above 100,000 exchanges a second.
const recorderBatchDelay = 10 * time.Millisecond

// RecorderOptions configure a Recorder.
type RecorderOptions struct {
	// Dir receives the Exchange files; it must exist. Files are named by
	// the exchange's start time and a sequence number, so that they sort
	// in the order they were recorded.
	Dir string
	// Secrets keeps secret values in the files; by default they are
	// redacted as SaveExchangeFile does.
	Secrets bool
	// KeepFiles and KeepBytes bound what the Recorder keeps in Dir: past
	// either, the oldest files it wrote are deleted (files it did not write
	// are never touched). 0 means no bound. The newest file is always kept,
	// even alone above KeepBytes.
	KeepFiles int
	KeepBytes int64
	// Queue and QueueBytes bound the exchanges waiting to be written: their
	// number (default DefaultRecorderQueue) and their captured bytes
	// (Sizes.Captured; default DefaultRecorderQueueBytes; an exchange
	// that finds the queue empty is taken whatever its size, its capture
	// being bounded by its CaptureLimit). An exchange that would exceed
	// either is dropped: counted in Stats, reported through ErrorLog.
	Queue      int
	QueueBytes int64
	// ErrorLog receives the failures to write or delete a file, and, at
	// most once a second while it goes on, how many exchanges were dropped.
	// It is called on the Recorder's goroutine. Optional.
	ErrorLog func(error)
}

// RecorderStats counts what a Recorder did with the exchanges given to it.
type RecorderStats struct {
	Recorded uint64 // written into Dir
	Failed   uint64 // not written: encoding or writing failed (see ErrorLog)
	Dropped  uint64 // not queued: the queue was full, or the Recorder closed
	Queued   int    // waiting to be written
}

// Recorder writes finished exchanges into a folder as Exchange files (see
// SaveExchangeFile; they open in the window and load with
// LoadExchangeFile), renamed into place whole, not synced to disk one by
// one. Record hands an exchange over without waiting: encoding, redacting,
// writing and deleting the oldest files happen on the Recorder's goroutine.
// When that goroutine falls behind by more than the queue holds, exchanges
// are dropped from the recording, never delayed. It is safe for concurrent
// use; Close stops it.
type Recorder struct {
	opts  RecorderOptions
	queue chan recorderItem
	done  chan struct{}

	mu     sync.RWMutex // held for reading while queueing, for writing by Close
	closed bool

	queuedBytes      atomic.Int64
	recorded, failed atomic.Uint64
	dropped          atomic.Uint64

	// The goroutine's own.
	reported   uint64 // dropped as last reported
	lastReport time.Time
	seq        uint64
	files      []recordedFile // oldest first; only with KeepFiles or KeepBytes
	buf        bytes.Buffer   // the file being written
	filesBytes int64          // total size of files
}

// recorderItem is an exchange to write, or a flush marker (flushed set).
type recorderItem struct {
	x       *Exchange
	size    int64
	flushed chan struct{}
}

// recordedFile is a file the Recorder wrote.
type recordedFile struct {
	path string
	size int64
}

// NewRecorder starts a Recorder writing into opts.Dir.
func NewRecorder(opts RecorderOptions) *Recorder {
	if opts.Queue <= 0 {
		opts.Queue = DefaultRecorderQueue
	}
	if opts.QueueBytes <= 0 {
		opts.QueueBytes = DefaultRecorderQueueBytes
	}
	r := &Recorder{opts: opts, queue: make(chan recorderItem, opts.Queue), done: make(chan struct{})}
	go r.run()
	return r
}

// Record queues the finished exchange x for writing and returns at once:
// true if it was queued, false if it was dropped (the queue full, or the
// Recorder closed). x must not change afterwards.
func (r *Recorder) Record(x *Exchange) bool {
	size := x.Sizes().Captured
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		r.dropped.Add(1)
		return false
	}
	// Reserve the bytes first, so that two Records cannot both fit in the
	// last room.
	if q := r.queuedBytes.Add(size); q > r.opts.QueueBytes && q > size {
		r.queuedBytes.Add(-size)
		r.dropped.Add(1)
		return false
	}
	select {
	case r.queue <- recorderItem{x: x, size: size}:
		return true
	default:
		r.queuedBytes.Add(-size)
		r.dropped.Add(1)
		return false
	}
}

// Flush waits until every exchange queued before the call is written (or
// failed). It returns at once after Close.
func (r *Recorder) Flush() {
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		return
	}
	done := make(chan struct{})
	r.queue <- recorderItem{flushed: done} // waits for room: Flush may wait, Record never does
	r.mu.RUnlock()
	<-done
}

// Close writes what is queued, stops the Recorder and reports drops not
// reported yet. Later Records drop their exchange. It returns nil; it is
// safe to call more than once.
func (r *Recorder) Close() error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.queue)
	}
	r.mu.Unlock()
	<-r.done
	return nil
}

// Stats returns the counts so far.
func (r *Recorder) Stats() RecorderStats {
	return RecorderStats{Recorded: r.recorded.Load(), Failed: r.failed.Load(), Dropped: r.dropped.Load(), Queued: len(r.queue)}
}

// Dir returns the folder the Recorder writes into.
func (r *Recorder) Dir() string { return r.opts.Dir }

// run is the Recorder's goroutine.
func (r *Recorder) run() {
	defer close(r.done)
	for it := range r.queue {
		if it.flushed != nil {
			close(it.flushed)
			continue
		}
		err := r.write(it.x)
		r.queuedBytes.Add(-it.size)
		if err != nil {
			r.failed.Add(1)
			r.log(err)
		} else {
			r.recorded.Add(1)
		}
		r.reportDrops(false)
		if len(r.queue) == 0 {
			// Let exchanges gather rather than be woken up by each.
			time.Sleep(recorderBatchDelay)
		}
	}
	r.reportDrops(true)
}

// write writes x as an Exchange file into Dir, and deletes the oldest
// recorded files above KeepFiles and KeepBytes. Past the bounds, the last
// of the files to go is reused for the new one (see reuse) instead of
// being deleted: creating a file is what recording costs most on ext4
// (about 150 µs of kernel time, where rewriting one in place takes under
// 20).
func (r *Recorder) write(x *Exchange) error {
	r.seq++
	name := fmt.Sprintf("%s-%06d.json", x.Start().Format("20060102T150405.000000000Z"), r.seq)
	path := filepath.Join(r.opts.Dir, name)
	r.buf.Reset()
	if err := encodeExchangeFile(&r.buf, x, r.opts.Secrets); err != nil {
		return fmt.Errorf("session: recorder: exchange %d: %w", r.seq, err)
	}
	b := r.buf.Bytes()
	if r.opts.KeepFiles <= 0 && r.opts.KeepBytes <= 0 {
		if err := WriteFileNoSync(path, b); err != nil {
			return fmt.Errorf("session: recorder: exchange %d: %w", r.seq, err)
		}
		return nil
	}
	var errs []error
	size := int64(len(b))
	reused := false
	for len(r.files) > 0 && (r.opts.KeepFiles > 0 && len(r.files)+1 > r.opts.KeepFiles ||
		r.opts.KeepBytes > 0 && r.filesBytes+size > r.opts.KeepBytes) {
		old := r.files[0]
		r.files[0] = recordedFile{}
		r.files = r.files[1:]
		r.filesBytes -= old.size
		last := len(r.files) == 0 || !(r.opts.KeepFiles > 0 && len(r.files)+1 > r.opts.KeepFiles ||
			r.opts.KeepBytes > 0 && r.filesBytes+size > r.opts.KeepBytes)
		if last {
			reused = r.reuse(old, path, b)
			if reused {
				break
			}
		}
		if err := os.Remove(old.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("session: recorder: deleting the old recording %s: %w", old.path, err))
		}
	}
	if !reused {
		if err := WriteFileNoSync(path, b); err != nil {
			return errors.Join(append(errs, fmt.Errorf("session: recorder: exchange %d: %w", r.seq, err))...)
		}
	}
	r.files = append(r.files, recordedFile{path: path, size: size})
	r.filesBytes += size
	return errors.Join(errs...)
}

// reuse turns the recorded file old, which is to go, into path with
// content b, as WriteFileNoSync would write it (the file appears under path
// whole or not at all): b is written over old's content from the start,
// the file cut to len(b) (whatever its size now), then renamed to path. It
// reports whether path was written; when not, old is gone, and the caller
// writes path anew. A reader that opened old meanwhile reads the new
// content, or a mix: old was being deleted. Three system calls fewer than
// renaming old aside first (open, write, truncate, close, one rename).
func (r *Recorder) reuse(old recordedFile, path string, b []byte) bool {
	f, err := os.OpenFile(old.path, os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Truncate(int64(len(b)))
	}
	err = errors.Join(err, f.Close())
	if err == nil {
		err = renameFile(old.path, path)
	}
	if err != nil {
		_ = os.Remove(old.path)
		return false
	}
	return true
}

// reportDrops tells ErrorLog how many exchanges were dropped since the last
// report, at most once a second unless final.
func (r *Recorder) reportDrops(final bool) {
	n := r.dropped.Load()
	if n == r.reported || !final && time.Since(r.lastReport) < recorderReportEvery {
		return
	}
	r.log(fmt.Errorf("session: recorder: %d exchanges not recorded, %d in all: recording fell behind "+
		"(at most %d exchanges and %d bytes wait to be written into %s)", n-r.reported, n, r.opts.Queue, r.opts.QueueBytes, r.opts.Dir))
	r.reported, r.lastReport = n, time.Now()
}

func (r *Recorder) log(err error) {
	if r.opts.ErrorLog != nil {
		r.opts.ErrorLog(err)
	}
}
