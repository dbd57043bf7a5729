// Screen: the size of the first window, fitted to the screen it opens on, and the bound that keeps whatever the content does from making the window larger than that screen.

package ui

import (
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver"
	"fyne.io/fyne/v2/theme"
	"github.com/go-gl/glfw/v3.3/glfw"
)

// Window sizes, in Fyne units.
const (
	// The first window's size when the screen has room for it.
	defaultWindowWidth  = 1600
	defaultWindowHeight = 1000
	// The smallest window the layout is made for: the content never asks
	// for more (see minBound), so the window's minimum size is at most this.
	minWindowWidth  = 1024
	minWindowHeight = 640
	// Room left around the window on the screen for the window manager's
	// frame: a title bar and borders.
	frameWidth  = 16
	frameHeight = 48
)

// How the screen is read. Fyne 2.7 tells nothing of the screen. Its
// desktop driver draws with GLFW, which knows the monitors: their work
// area (the screen less the panels and docks), physical size and content
// scale. GLFW is initialised by the driver when the first window is
// created, and its monitor functions must run on the main thread, which
// is the goroutine that builds the window and runs the app (the driver
// locks it). A window of the desktop driver is a driver.NativeWindow; one
// of the test driver is not, and then the screen is unknown and nothing is
// fitted. Before the window is shown the canvas has no scale yet; it is
// estimated as the driver will compute it (see estimateScale), and
// checked once the window is shown (see Inspector.fitShown).

// screenPixels returns the work area of the primary monitor in pixels,
// with the monitor for the scale estimate; ok is false when win is not a
// desktop window or GLFW cannot tell.
func screenPixels(win fyne.Window) (w, h int, mon *glfw.Monitor, ok bool) {
	if _, native := win.(driver.NativeWindow); !native {
		return 0, 0, nil, false
	}
	defer func() {
		if recover() != nil { // GLFW reports its errors by panicking
			w, h, mon, ok = 0, 0, nil, false
		}
	}()
	mon = glfw.GetPrimaryMonitor()
	if mon == nil {
		return 0, 0, nil, false
	}
	_, _, w, h = mon.GetWorkarea()
	if w <= 0 || h <= 0 {
		if m := mon.GetVideoMode(); m != nil {
			w, h = m.Width, m.Height
		}
	}
	return w, h, mon, w > 0 && h > 0
}

// estimateScale returns the scale the desktop driver will give a window
// on mon: the user's scale (FYNE_SCALE, else the settings) times the
// system's (on Linux and BSD the one detected from the monitor's pixels
// per inch, 120 dpi being 1; on Windows the monitor's content scale; on
// macOS 1, the screen being measured in points), rounded to a tenth.
func estimateScale(mon *glfw.Monitor) (scale float32) {
	defer func() {
		if recover() != nil {
			scale = 1
		}
	}()
	user := float32(1)
	if env := os.Getenv("FYNE_SCALE"); env != "" && env != "auto" {
		if v, err := strconv.ParseFloat(env, 32); err == nil && v > 0 {
			user = float32(v)
		}
	} else if app := fyne.CurrentApp(); env != "auto" && app != nil && app.Settings().Scale() > 0 {
		user = app.Settings().Scale()
	}
	system := float32(1)
	switch runtime.GOOS {
	case "darwin":
	case "windows":
		system, _ = mon.GetContentScale()
	default:
		if off := os.Getenv("FYNE_DISABLE_DPI_DETECTION"); !strings.EqualFold(off, "true") && !strings.EqualFold(off, "t") && off != "1" {
			system = detectedScale(mon)
		}
	}
	return float32(math.Round(float64(user*system*10)) / 10)
}

// detectedScale is the scale of a monitor by its pixels per inch.
func detectedScale(mon *glfw.Monitor) float32 {
	mm, _ := mon.GetPhysicalSize()
	mode := mon.GetVideoMode()
	if mm <= 0 || mode == nil {
		return 1
	}
	dpi := float32(mode.Width) / (float32(mm) / 25.4)
	if dpi > 1000 || dpi < 10 {
		return 1
	}
	return max(dpi/120, 1)
}

// screenArea returns the room the screen has for the window, in Fyne
// units at scale (0: estimated), ok false when it is unknown.
func screenArea(win fyne.Window, scale float32) (fyne.Size, bool) {
	w, h, mon, ok := screenPixels(win)
	if !ok {
		return fyne.Size{}, false
	}
	if scale <= 0 {
		scale = estimateScale(mon)
	}
	if scale <= 0 {
		scale = 1
	}
	return fyne.NewSize(float32(w)/scale, float32(h)/scale), true
}

// fitWindow returns want made small enough for a screen of area, leaving
// room for the window's frame; never smaller than the area allows the
// smallest window to be.
func fitWindow(want, area fyne.Size) fyne.Size {
	room := fyne.NewSize(max(area.Width-frameWidth, 1), max(area.Height-frameHeight, 1))
	return want.Min(room)
}

// minBound returns the most the window's content may ask for: the
// smallest window the layout is made for, or less on a screen of area
// (0: unknown) that has no room for it, less the menu bar and the window's
// padding. The window asks its content for its minimum size at every
// layout, grows to it and never shrinks back: the bound keeps a long text
// or a large response from growing it past the screen. Content that needs
// more scrolls (see rootLayout).
func minBound(area fyne.Size) fyne.Size {
	win := fyne.NewSize(minWindowWidth, minWindowHeight)
	if area.Width > 0 && area.Height > 0 {
		win = fitWindow(win, area)
	}
	pad := 2 * theme.Padding() // the window's padding around its content
	return fyne.NewSize(max(win.Width-pad, 1), max(win.Height-menuHeight-pad, 1))
}

// menuHeight is room for the main menu bar, which the window draws over
// its content.
const menuHeight = 32
