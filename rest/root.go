package rest

import (
	"context"
	"net/http"
)

// The root resource: GET / and GET /health (Java's RootResource).

// Worker health states and messages (KIP-1017), as Connect words them.
const (
	healthHealthy       = "healthy"
	healthStarting      = "starting"
	healthUnhealthy     = "unhealthy"
	msgHealthHealthy    = "Worker has completed startup and is ready to handle requests."
	msgHealthStarting   = "Worker is still starting up."
	msgHealthUnhealthy  = "Worker was unable to handle this request and may be unable to handle other requests."
	msgHealthFailedCall = "The herder answered: "
)

// readier is implemented by herders that know when they completed start-up
// (*cluster.Herder: Ready is closed after the first rebalance).
type readier interface {
	Ready() <-chan struct{}
}

func (s *Server) serverInfo(x *exchange) (reply, error) {
	return reply{status: http.StatusOK, body: fromServerInfo(s.herder.ServerInfo(x.ctx()))}, nil
}

// health answers KIP-1017's GET /health: 503 "starting" until the herder completed start-up,
// then 200 "healthy" if the herder answers a request within healthTimeout and 500 "unhealthy"
// if it does not. The body is a WorkerStatus, also for 500 and 503.
func (s *Server) health(x *exchange) (reply, error) {
	if rd, ok := s.herder.(readier); ok {
		select {
		case <-rd.Ready():
		default:
			return reply{status: http.StatusServiceUnavailable, body: workerStatus{Status: healthStarting, Message: msgHealthStarting}}, nil
		}
	}
	ctx, cancel := context.WithTimeout(x.ctx(), healthTimeout)
	defer cancel()
	if _, err := s.herder.Connectors(ctx); err != nil {
		s.log.Warn("health check failed", "err", err)
		return reply{status: http.StatusInternalServerError, body: workerStatus{
			Status:  healthUnhealthy,
			Message: msgHealthUnhealthy + " " + msgHealthFailedCall + asError(err).Message,
		}}, nil
	}
	return reply{status: http.StatusOK, body: workerStatus{Status: healthHealthy, Message: msgHealthHealthy}}, nil
}
