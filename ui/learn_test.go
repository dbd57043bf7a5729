// Tests of the Learn panel: every lesson against the in-process demo backend, loaded and sent or Run, then checked.

package ui

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"fcgiscope/session"
	"fcgiscope/session/teach"
)

// teachWait bounds every wait in the teaching tests; the flows take
// milliseconds to a few seconds, the bound only stops a broken test.
const teachWait = 20 * time.Second

// uiQueue is the queue of the teaching tests; it notes the functions the
// UI goroutine took long to run.
type uiQueue struct {
	*queue
	slow []slowCall // UI goroutine only: functions that ran long
}

// slowCall is a function the UI goroutine took long to run.
type slowCall struct {
	name  string
	start time.Time
	took  time.Duration
}

// slowCallTime is how long a queued function runs before slowCalls notes it.
const slowCallTime = 20 * time.Millisecond

func newUIQueue() *uiQueue {
	q := &uiQueue{queue: newQueue()}
	q.each = q.run
	return q
}

// run runs f, noting it when it is slow.
func (q *uiQueue) run(f func(), _, _ int) {
	start := time.Now()
	f()
	if took := time.Since(start); took > slowCallTime {
		q.slow = append(q.slow, slowCall{runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name(), start, took})
	}
}

// slowSince describes the slow functions that started at or after from.
func (q *uiQueue) slowSince(from time.Time) string {
	var b strings.Builder
	for _, c := range q.slow {
		if !c.start.Before(from) {
			fmt.Fprintf(&b, "\n\t%v in %s", c.took.Round(time.Millisecond), c.name)
		}
	}
	return b.String()
}

// teachKit is what the panel tests share: a headless app, the demo
// backend on loopback, an engine and the queue.
type teachKit struct {
	env    *testEnv
	app    fyne.App
	demo   string
	engine *session.Engine
	q      *uiQueue
	ctx    context.Context
}

func newTeachKit(t *testing.T) *teachKit {
	t.Helper()
	q := newUIQueue()
	e := newTestEnv(t, q, windowOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*teachWait)
	t.Cleanup(cancel) // before the environment's: the flows stop first
	return &teachKit{env: e, app: e.app, demo: e.demo, engine: e.engine, q: q, ctx: ctx}
}

// lessonExchanges runs lesson id's own flow and returns its exchanges.
func (k *teachKit) lessonExchanges(t *testing.T, id string) []*session.Exchange {
	t.Helper()
	ls, ok := teach.LessonByID(id)
	if !ok {
		t.Fatalf("no lesson %q", id)
	}
	xs, err := ls.Run(k.ctx, k.engine, k.demo)
	if err != nil {
		t.Fatalf("lesson %s: %v", id, err)
	}
	return xs
}

// learnWindow is the inspector window with its teaching side, on the demo
// backend.
type learnWindow struct {
	*teachKit
	in    *Inspector
	teach *Teaching
}

func newLearnWindow(t *testing.T) *learnWindow {
	t.Helper()
	k := newTeachKit(t)
	in := k.env.open(t, k.q)
	return &learnWindow{teachKit: k, in: in, teach: in.teach}
}

// waitPassed waits until the Learn panel shows the selected lesson's
// checks all passing, and fails with the failing ones.
func (w *learnWindow) waitPassed(t *testing.T) {
	t.Helper()
	l := w.teach.Learn
	deadline := time.Now().Add(teachWait)
	for !teach.Passed(l.Checks()) {
		if time.Now().After(deadline) {
			var failed []string
			for _, r := range l.Checks() {
				if !r.Pass {
					failed = append(failed, r.Check+": "+r.Detail)
				}
			}
			t.Fatalf("lesson %s: %q\nfailing: %q", l.Lesson(), l.CheckSummary(), failed)
		}
		w.q.pump()
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLessonsPassThroughTheLearnPanel(t *testing.T) {
	w := newLearnWindow(t)
	l := w.teach.Learn
	// The 70 KB body lesson goes last: once the response pane has shown
	// its echo, every later show costs the pane far more.
	lessons := teach.Lessons()
	for i, ls := range lessons {
		if ls.ID == teach.LessonSplitBody {
			lessons = append(append(lessons[:i:i], lessons[i+1:]...), ls)
			break
		}
	}
	for _, ls := range lessons {
		t.Run(ls.ID, func(t *testing.T) {
			if !l.SelectLesson(ls.ID) || l.Lesson() != ls.ID {
				t.Fatalf("lesson %s not selectable", ls.ID)
			}
			_, runOnly := formCannot(ls.ID)
			if runOnly == l.LoadButton().Visible() {
				t.Errorf("Load preset shown %v for a lesson the form cannot hold: %v", l.LoadButton().Visible(), runOnly)
			}
			if runOnly || lessonNeeds(ls.ID) > 1 || ls.ID == teach.LessonAbort {
				test.Tap(l.RunButton())
				if !l.Running() || !l.RunButton().Disabled() {
					t.Fatal("Run did not start a run")
				}
				w.q.waitFor(t, "the lesson's run", teachWait, func() bool { return !l.Running() })
				if x := w.in.Exchange(); x == nil || x.Len() == 0 || w.in.Results().Len() != x.Len() {
					t.Errorf("the window does not show the run's exchange: %v", x)
				}
			} else {
				test.Tap(l.LoadButton())
				in, err := w.in.Compose().Snapshot()
				if err != nil || in.Mode != session.ModeRaw || w.in.Target().Address() != w.demo {
					t.Fatalf("after Load preset: mode %q, target %q, %v", in.Mode, w.in.Target().Address(), err)
				}
				if in.Role != ls.Input.Role || len(in.Params) != len(ls.Input.Params) || len(in.Body) != len(ls.Input.Body) {
					t.Fatalf("the form holds role %s, %d params, %d bytes of body; the lesson %s, %d, %d",
						in.Role, len(in.Params), len(in.Body), ls.Input.Role, len(ls.Input.Params), len(ls.Input.Body))
				}
				if ls.Data != nil && in.DataFile == "" {
					t.Fatal("the FILTER lesson's data file is not named")
				}
				test.Tap(w.in.SendButton())
				w.q.waitFor(t, "the send", teachWait, func() bool { return !w.in.Busy() })
			}
			w.waitPassed(t)
			if st := w.teach.Learn.state[ls.ID]; !st.checked {
				t.Error("the lesson list does not mark the lesson checked")
			}
			if !strings.HasPrefix(l.CheckSummary(), "Checks: ") || !strings.Contains(l.CheckSummary(), "all there") {
				t.Errorf("summary %q", l.CheckSummary())
			}
		})
	}
}

func TestLessonChecksFollowTheLatestExchange(t *testing.T) {
	w := newLearnWindow(t)
	l := w.teach.Learn
	l.SelectLesson(teach.LessonNoBody)
	test.Tap(l.LoadButton())
	test.Tap(w.in.SendButton())
	w.q.waitFor(t, "the send", teachWait, func() bool { return !w.in.Busy() })
	w.waitPassed(t)

	// A POST with a body, sent by hand, is not what the lesson shows.
	w.in.Compose().SetBody("a body")
	w.in.Compose().FillContentParams()
	test.Tap(w.in.SendButton())
	w.q.waitFor(t, "the send", teachWait, func() bool { return !w.in.Busy() })
	w.q.waitFor(t, "the checks of the new exchange", teachWait, func() bool {
		return len(l.Checks()) > 0 && !teach.Passed(l.Checks())
	})
	if !strings.Contains(l.CheckSummary(), "not there yet") {
		t.Errorf("summary %q", l.CheckSummary())
	}

	// Selecting a two-request lesson looks at the last two exchanges.
	l.SelectLesson(teach.LessonKeepConn)
	w.q.waitFor(t, "the keep-conn checks", teachWait, func() bool { return len(l.Checks()) > 0 })
	if teach.Passed(l.Checks()) {
		t.Errorf("keep-conn passes on requests without KEEP_CONN: %+v", l.Checks())
	}
}
