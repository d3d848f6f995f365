package rest

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/cluster"
)

// clusterKinds reads every constant of type cluster.Kind from the cluster package's source, so
// the contract test below sees kinds added after it was written.
func clusterKinds(t *testing.T) map[string]cluster.Kind {
	t.Helper()
	dir := filepath.Join("..", "cluster")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
		if err != nil {
			if name == "errors.go" {
				t.Fatalf("parsing cluster/errors.go: %v", err)
			}
			continue // another file mid-edit does not change the kinds
		}
		files = append(files, f)
	}
	// Imports resolve to empty packages and type errors are ignored: the values of an iota
	// block do not depend on them.
	conf := types.Config{Importer: emptyImporter{}, Error: func(error) {}}
	pkg, _ := conf.Check("github.com/kconnect/kconnect/cluster", fset, files, nil)
	kinds := map[string]cluster.Kind{}
	for _, name := range pkg.Scope().Names() {
		c, ok := pkg.Scope().Lookup(name).(*types.Const)
		if !ok {
			continue
		}
		if named, ok := c.Type().(*types.Named); !ok || named.Obj().Name() != "Kind" {
			continue
		}
		v, exact := constant.Int64Val(c.Val())
		if !exact {
			t.Fatalf("cluster.%s has no integer value", name)
		}
		kinds[name] = cluster.Kind(v)
	}
	return kinds
}

type emptyImporter struct{}

func (emptyImporter) Import(path string) (*types.Package, error) {
	return types.NewPackage(path, filepath.Base(path)), nil
}

// TestEveryKindMaps is the contract between the herder's error kinds and the statuses users
// see: every kind has a status, and an error of that kind is answered with it.
func TestEveryKindMaps(t *testing.T) {
	kinds := clusterKinds(t)
	for _, want := range []string{"KindNotFound", "KindAlreadyExists", "KindBadRequest", "KindConflict", "KindRebalanceNeeded", "KindTimeout", "KindForbidden", "KindUnavailable"} {
		if _, ok := kinds[want]; !ok {
			t.Errorf("the source scan did not find cluster.%s; the scan is broken", want)
		}
	}
	for name, k := range kinds {
		m, ok := kindStatus[k]
		if !ok {
			t.Errorf("cluster.%s has no status in kindStatus", name)
			continue
		}
		if m.message == "" {
			t.Errorf("cluster.%s has no default message", name)
		}
		got := asError(&cluster.Error{Kind: k, Message: "from the herder"})
		if got.Status != m.status || got.Code != m.status || got.Message != "from the herder" {
			t.Errorf("cluster.%s answered %+v, want status %d with the herder's message", name, got, m.status)
		}
	}
	if len(kindStatus) != len(kinds) {
		t.Errorf("kindStatus has %d kinds, cluster declares %d", len(kindStatus), len(kinds))
	}
}

func TestAsError(t *testing.T) {
	cases := []struct {
		name        string
		err         error
		wantStatus  int
		wantCode    int
		wantMessage string
	}{
		{"not found", &cluster.Error{Kind: cluster.KindNotFound, Message: "Connector x not found"}, 404, 404, "Connector x not found"},
		{"already exists", &cluster.Error{Kind: cluster.KindAlreadyExists, Message: "Connector x already exists"}, 409, 409, "Connector x already exists"},
		{"bad request", &cluster.Error{Kind: cluster.KindBadRequest, Message: "bad"}, 400, 400, "bad"},
		{"conflict", &cluster.Error{Kind: cluster.KindConflict, Message: "stale"}, 409, 409, "stale"},
		{"rebalance on a read, default message", &cluster.Error{Kind: cluster.KindRebalanceNeeded}, 500, 500, msgRebalanceExpected},
		{"timeout, default message", &cluster.Error{Kind: cluster.KindTimeout}, 500, 500, msgTimedOut},
		{"forbidden", &cluster.Error{Kind: cluster.KindForbidden, Message: "Topic tracking is disabled."}, 403, 403, "Topic tracking is disabled."},
		{"unavailable", &cluster.Error{Kind: cluster.KindUnavailable, Message: "starting"}, 503, 503, "starting"},
		{"unknown kind", &cluster.Error{Kind: cluster.Kind(999), Message: "odd"}, 500, 500, "odd"},
		{"wrapped herder error", fmt.Errorf("creating: %w", &cluster.Error{Kind: cluster.KindNotFound, Message: "gone"}), 404, 404, "gone"},
		{"relayed error keeps its code", &Error{Status: 400, Code: 40001, Message: "remote"}, 400, 40001, "remote"},
		{"binding error", bindErrorf("Unrecognized field %q", "foo"), 500, 500, `Unrecognized field "foo"`},
		{"unforwarded redirect, no target", &cluster.RedirectError{}, 409, 409, msgNoLeader},
		{"unforwarded redirect", &cluster.RedirectError{TargetURL: "http://w1:8083/"}, 409, 409, msgConflictingOp},
		{"deadline", fmt.Errorf("waiting: %w", context.DeadlineExceeded), 500, 500, msgTimedOut},
		{"cancelled", context.Canceled, 500, 500, msgInterrupted},
		{"anything else", errors.New("disk on fire"), 500, 500, "disk on fire"},
		{"empty message", errors.New(""), 500, 500, msgInternalServerError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := asError(c.err)
			if got.Status != c.wantStatus || got.Code != c.wantCode || got.Message != c.wantMessage {
				t.Errorf("asError = {%d %d %q}, want {%d %d %q}", got.Status, got.Code, got.Message, c.wantStatus, c.wantCode, c.wantMessage)
			}
		})
	}
}

func TestIsClientError(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{&cluster.Error{Kind: cluster.KindNotFound}, true},
		{bindErrorf("malformed"), true},
		{newError(http.StatusUnsupportedMediaType, msgUnsupportedMedia), true},
		{&cluster.Error{Kind: cluster.KindTimeout}, false},
		{errors.New("boom"), false},
	}
	for _, c := range cases {
		if got := isClientError(c.err); got != c.want {
			t.Errorf("isClientError(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
