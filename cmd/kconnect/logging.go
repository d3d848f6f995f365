package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// loggerKey is the attribute naming the component a log line comes from ("rest", "cluster",
// "storage", "task", "kgo", ...).
const loggerKey = "logger"

// newLogger returns a text logger on w at the named level. It gives every line one component
// name: packages derive their loggers from the one they were given and name their part
// (cluster names the herder "cluster" and its tasks "task"), and of those nested names only the
// innermost is written, first after the message. So a line reads "logger=task connector=…"
// rather than "logger=worker logger=cluster … logger=task", and a component's lines can be
// found, and filtered, by one name.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("invalid log level %q: use debug, info, warn or error", level)
	}
	return slog.New(&componentHandler{inner: slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})}), nil
}

// componentHandler keeps the innermost "logger" attribute of a logger chain. The attributes a
// chain adds are kept here, not handed to the inner handler, so a later name can replace an
// earlier one; Handle writes the name, then the chain's attributes, then the record's. A
// group (WithGroup) fixes what came before it: attributes and the name are handed to the
// inner handler then, since they belong outside the group.
type componentHandler struct {
	inner slog.Handler
	name  slog.Value  // the innermost name; zero when none was given
	attrs []slog.Attr // the chain's other attributes, in order
}

func (h *componentHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

func (h *componentHandler) Handle(ctx context.Context, r slog.Record) error {
	name := h.name
	var own []slog.Attr
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == loggerKey {
			name = a.Value
		} else {
			own = append(own, a)
		}
		return true
	})
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	if hasValue(name) {
		out.AddAttrs(slog.Attr{Key: loggerKey, Value: name})
	}
	out.AddAttrs(h.attrs...)
	out.AddAttrs(own...)
	return h.inner.Handle(ctx, out)
}

func (h *componentHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := &componentHandler{inner: h.inner, name: h.name, attrs: make([]slog.Attr, 0, len(h.attrs)+len(attrs))}
	out.attrs = append(out.attrs, h.attrs...)
	for _, a := range attrs {
		if a.Key == loggerKey {
			out.name = a.Value
			continue
		}
		out.attrs = append(out.attrs, a)
	}
	return out
}

func (h *componentHandler) WithGroup(group string) slog.Handler {
	if group == "" {
		return h
	}
	inner := h.inner
	fixed := h.attrs
	if hasValue(h.name) {
		fixed = append([]slog.Attr{{Key: loggerKey, Value: h.name}}, fixed...)
	}
	if len(fixed) > 0 {
		inner = inner.WithAttrs(fixed)
	}
	return &componentHandler{inner: inner.WithGroup(group)}
}

// hasValue reports whether v is not the zero Value.
func hasValue(v slog.Value) bool { return v.Kind() != slog.KindAny || v.Any() != nil }
