// Package journey holds the real-window test of fcgiscope: it builds the
// binary, starts it under Xvfb at the screen sizes people use (no window
// manager), and drives it with xdotool through a user's journey — send to
// the demo backend, open every drop-down, select records, drag the splits,
// open and close the sidebar's panels, switch modes and tabs, resize the
// window to its smallest and back, tap from the Live view, stderr and a
// failure — failing on a crash, a window larger than its screen, or a
// control that should show text but is blank. The whole journey runs at
// 1366×768; at 1280×720 and 1920×1080 the steps whose result depends on
// the screen's size (a request's panes, each sidebar panel and the Live
// view open, stderr and a failure).
//
// The window tells where its controls are through its layout report (see
// ui.LayoutFileEnv), so that the journey clicks them where they are drawn
// rather than at fixed coordinates.
//
// It runs only when FCGISCOPE_JOURNEY=1 (scripts/journey sets it), needs
// Xvfb, xdotool and ImageMagick's import, and keeps its screenshots in a
// temporary folder (FCGISCOPE_JOURNEY_OUT to choose it) whose path it
// prints. FCGISCOPE_JOURNEY_DISPLAYS lists the X display numbers it may
// use ("20 21 22"); without it Xvfb picks free ones. With
// FCGISCOPE_JOURNEY_SCREENSHOT set to a path, the window at 1366×768 after
// a request to the demo backend is written there (the README's
// screenshot). FCGISCOPE_JOURNEY_BIN names a binary built already (go
// build . of this module) to drive instead of building one.
package journey
