package task

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/kconnect/kconnect/sink"
)

// guardedTask turns a panic in a plugin task call into an error, so a faulty plugin fails its
// task (as an exception does in Java) instead of crashing the worker.
type guardedTask struct {
	sink.Task
	log *slog.Logger
}

func (g guardedTask) recover(method string, err *error) {
	if r := recover(); r != nil {
		g.log.Error("sink task panicked", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		*err = fmt.Errorf("sink task %s panicked: %v", method, r)
	}
}

func (g guardedTask) Start(ctx context.Context, tc sink.TaskContext, config map[string]string) (err error) {
	defer g.recover("Start", &err)
	return g.Task.Start(ctx, tc, config)
}

func (g guardedTask) Open(ctx context.Context, partitions []sink.TopicPartition) (err error) {
	defer g.recover("Open", &err)
	return g.Task.Open(ctx, partitions)
}

func (g guardedTask) Put(ctx context.Context, records []sink.Record) (err error) {
	defer g.recover("Put", &err)
	return g.Task.Put(ctx, records)
}

func (g guardedTask) PreCommit(ctx context.Context, current map[sink.TopicPartition]int64) (offsets map[sink.TopicPartition]int64, err error) {
	defer g.recover("PreCommit", &err)
	return g.Task.PreCommit(ctx, current)
}

func (g guardedTask) Close(ctx context.Context, partitions []sink.TopicPartition) (err error) {
	defer g.recover("Close", &err)
	return g.Task.Close(ctx, partitions)
}

func (g guardedTask) Stop(ctx context.Context) (err error) {
	defer g.recover("Stop", &err)
	return g.Task.Stop(ctx)
}
