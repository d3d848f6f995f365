package rest

import (
	"context"
	"errors"
	"net/http"

	"github.com/kconnect/kconnect/cluster"
)

// The root resource: GET / and GET /health (Java's RootResource).

// Worker health states and messages (KIP-1017), as Connect words them.
const (
	healthHealthy      = "healthy"
	healthStarting     = "starting"
	healthUnhealthy    = "unhealthy"
	msgHealthHealthy   = "Worker has completed startup and is ready to handle requests."
	msgHealthStarting  = "Worker is still starting up."
	msgHealthUnhealthy = "Worker was unable to handle this request and may be unable to handle other requests."
)

func (s *Server) serverInfo(x *exchange) (reply, error) {
	return reply{status: http.StatusOK, body: fromServerInfo(s.herder.ServerInfo(x.ctx()))}, nil
}

// health answers KIP-1017's GET /health from the herder's Health: 200 "healthy" when the
// herder's goroutine answers within healthTimeout, 503 "starting" until the worker completed its
// first rebalance, 500 "unhealthy" when the goroutine does not answer; the last two add what the
// goroutine is doing, as Java's WorkerStatus does. The body is a WorkerStatus, also for 500 and
// 503. Other failures (the worker is shutting down) are ordinary error answers.
func (s *Server) health(x *exchange) (reply, error) {
	ctx, cancel := context.WithTimeout(x.ctx(), healthTimeout)
	defer cancel()
	err := s.herder.Health(ctx)
	if err == nil {
		return reply{status: http.StatusOK, body: workerStatus{Status: healthHealthy, Message: msgHealthHealthy}}, nil
	}
	var he *cluster.HealthError
	if !errors.As(err, &he) {
		return reply{}, err
	}
	status, state, msg := http.StatusInternalServerError, healthUnhealthy, msgHealthUnhealthy
	if he.Starting {
		status, state, msg = http.StatusServiceUnavailable, healthStarting, msgHealthStarting
	} else {
		s.log.Warn("health check failed: the herder did not answer in time", "stage", he.Stage)
	}
	if he.Stage != "" {
		msg += " " + he.Stage
	}
	return reply{status: status, body: workerStatus{Status: state, Message: msg}}, nil
}
