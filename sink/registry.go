package sink

import (
	"fmt"
	"sort"
	"strings"
)

// Registry maps connector class names and their aliases to plugins. Build one with
// [NewRegistry]; it is read-only afterwards and safe for concurrent use.
type Registry struct {
	byClass map[string]*Plugin
	byAlias map[string]*Plugin
	sorted  []*Plugin
}

// NewRegistry registers the plugins. A plugin is found by its class name, by the simple class
// name (the part after the last dot), and by the simple name without a trailing "Connector", as
// Java's PluginUtils computes aliases; an alias two plugins share resolves to neither.
func NewRegistry(plugins ...*Plugin) (*Registry, error) {
	r := &Registry{byClass: map[string]*Plugin{}, byAlias: map[string]*Plugin{}}
	ambiguous := map[string]bool{}
	for _, p := range plugins {
		if p.Class == "" || p.NewConnector == nil || p.NewTask == nil || p.Config == nil {
			return nil, fmt.Errorf("plugin %q is incomplete: class, config and constructors are required", p.Class)
		}
		if _, dup := r.byClass[p.Class]; dup {
			return nil, fmt.Errorf("plugin %s registered twice", p.Class)
		}
		r.byClass[p.Class] = p
		r.sorted = append(r.sorted, p)
		for _, a := range aliases(p.Class) {
			if other, taken := r.byAlias[a]; taken && other != p {
				ambiguous[a] = true
			}
			r.byAlias[a] = p
		}
	}
	for a := range ambiguous {
		delete(r.byAlias, a)
	}
	sort.Slice(r.sorted, func(i, j int) bool { return r.sorted[i].Class < r.sorted[j].Class })
	return r, nil
}

func aliases(class string) []string {
	simple := class[strings.LastIndexByte(class, '.')+1:]
	out := []string{simple}
	if short, ok := strings.CutSuffix(simple, "Connector"); ok && short != "" {
		out = append(out, short)
	}
	return out
}

// Lookup finds a plugin by class name or alias.
func (r *Registry) Lookup(name string) (*Plugin, bool) {
	if p, ok := r.byClass[name]; ok {
		return p, true
	}
	p, ok := r.byAlias[name]
	return p, ok
}

// Plugins returns every registered plugin, sorted by class name.
func (r *Registry) Plugins() []*Plugin {
	return append([]*Plugin(nil), r.sorted...)
}
