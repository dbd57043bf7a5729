// Properties that hold across the session packages.

package session_test

import (
	"bytes"
	"reflect"
	"testing"

	"fcgiscope/session"
	"fcgiscope/session/preset"
	"fcgiscope/session/teach"
)

// TestLessonAndScenarioInputsArePresets: every ready input survives a
// round trip through the preset format.
func TestLessonAndScenarioInputsArePresets(t *testing.T) {
	var ins []session.Input
	for _, l := range teach.Lessons() {
		ins = append(ins, l.Input)
	}
	for _, s := range teach.Scenarios() {
		ins = append(ins, s.Input)
	}
	for _, in := range ins {
		b, err := preset.Encode(preset.FromInput(in))
		if err != nil {
			t.Fatalf("preset.Encode: %v", err)
		}
		p, err := preset.Decode(b)
		if err != nil {
			t.Fatalf("preset.Decode: %v\n%s", err, b)
		}
		got := p.Input()
		if got.Mode != in.Mode || got.Role != in.Role || got.KeepConn != in.KeepConn || got.Target != in.Target ||
			!bytes.Equal(got.Body, in.Body) || !reflect.DeepEqual(got.Params, in.Params) {
			t.Errorf("preset round trip changed the input:\n got %+v\nwant %+v", got, in)
		}
	}
}
