// Package view holds fcgiscope's own widgets, shaped as Fyne's widget
// package shapes its own: exported fields for callbacks and options, a
// NewXxx that calls ExtendBaseWidget, SetXxx methods that change the state
// and then refresh, and a small private renderer per widget.
//
//   - RecordList: the records of an exchange as a protocol analyser lists
//     them: keys to move, a filter by type and direction, runs of
//     consecutive records of one type folded into one line, and only the
//     rows on screen laid out, so 100,000 records cost what ten do.
//   - RecordDetail: one record's fields as a tree (the header, each
//     name-value pair a group of its parts) with resizable columns, the
//     selected field described whole under it, above a HexView of its bytes.
//   - HexView: a hex dump whose bytes are coloured by protocol field, named
//     when pointed at, laid out a screenful at a time.
//   - TextLog: a long text, soft-wrapped at word boundaries to the width it
//     is given, laid out a screenful at a time (the stderr pane).
//   - KVEditor: ordered name/value rows to edit (the request's header lines,
//     Raw params, an environment's variables): enable, move, remove, add,
//     a border between names and values that drags.
//   - TextLine: one line of text cut with an ellipsis to its room, its whole
//     text in a tooltip drawn by the window's TipLayer and in a Copy menu.
//   - TextTable: read-only rows of text (the params preview, the response
//     headers) under a header whose column borders drag; a cut cell is a
//     TextLine, a selected row is shown whole under the table.
//   - Select: Fyne's drop-down that opens only while it is on a window
//     (Fyne issue 5965), and GuardDropDown for a SelectEntry's.
//   - NewCappedScroll: content as tall as it is up to a bound, scrolling
//     beyond (messages that must not make a pane taller).
//
// What the bytes mean comes from package session/dissect; the widgets only
// draw it. All methods must be called on the UI goroutine, as for any Fyne
// widget.
package view
