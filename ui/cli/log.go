// Logging: the logrus logger built from the global flags, secret redaction,
// and the hooks that log every record and every exchange at debug level.

package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/sirupsen/logrus"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// NewLogger returns a logger writing to w at level (debug, info, warn or
// error) in format (text or json).
func NewLogger(w io.Writer, level, format string) (*logrus.Logger, error) {
	log := logrus.New()
	log.SetOutput(w)
	switch strings.ToLower(level) {
	case "debug":
		log.SetLevel(logrus.DebugLevel)
	case "info":
		log.SetLevel(logrus.InfoLevel)
	case "warn", "warning":
		log.SetLevel(logrus.WarnLevel)
	case "error":
		log.SetLevel(logrus.ErrorLevel)
	default:
		return nil, fmt.Errorf("cli: --log-level %q: want debug, info, warn or error", level)
	}
	switch strings.ToLower(format) {
	case "text":
		log.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	case "json":
		log.SetFormatter(&logrus.JSONFormatter{})
	default:
		return nil, fmt.Errorf("cli: --log-format %q: want text or json", format)
	}
	return log, nil
}

// redactor hides secret values (session.IsSecretHeader, IsSecretParam)
// from the logs unless secrets is set.
type redactor struct{ secrets bool }

// header returns the value of an HTTP header as it may be logged.
func (r redactor) header(name, value string) string {
	if !r.secrets && session.IsSecretHeader(name) {
		return session.Redacted
	}
	return value
}

// param returns the value of a FastCGI param as it may be logged.
func (r redactor) param(name, value string) string {
	if !r.secrets && session.IsSecretParam(name) {
		return session.Redacted
	}
	return value
}

// TraceLogger returns an fcgi.Trace that logs every record at debug level
// (direction, type, request id, content length), or nil when debug is off so
// that nothing is traced in vain.
func TraceLogger(log *logrus.Logger) fcgi.Trace {
	if !log.IsLevelEnabled(logrus.DebugLevel) {
		return nil
	}
	return func(ev fcgi.Event) {
		if ev.Record == nil {
			return
		}
		h := ev.Record.Header
		e := log.WithFields(logrus.Fields{
			"dir":  ev.Dir.String(),
			"type": h.Type.String(),
			"id":   h.RequestID,
			"len":  h.ContentLength,
		})
		if ev.Err != nil {
			e = e.WithError(ev.Err)
		}
		e.Debug("record")
	}
}

// ExchangeLogger returns a session.EngineOptions.OnExchange hook that logs
// every exchange the engine completed at debug level (target, role, request
// id, records, HTTP status, bytes, time, error), or nil when debug is off.
// It logs no param or header, so no secret.
func ExchangeLogger(log *logrus.Logger) func(*session.Exchange) {
	if !log.IsLevelEnabled(logrus.DebugLevel) {
		return nil
	}
	return func(x *session.Exchange) {
		sz := x.Sizes()
		e := log.WithFields(logrus.Fields{
			"target":   x.Target(),
			"role":     x.Role().String(),
			"id":       x.RequestID(),
			"records":  x.Len(),
			"sent":     sz.Sent,
			"received": sz.Received,
			"total":    x.Timings().Total,
		})
		if r := x.Response(); r != nil {
			e = e.WithField("status", r.Status)
		}
		if end := x.End(); end != nil {
			e = e.WithField("end", end.ProtocolStatus.String())
		}
		if msg := x.ErrorText(); msg != "" {
			e = e.WithField("error", msg)
		}
		e.Debug("exchange")
	}
}
