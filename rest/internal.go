package rest

import "net/http"

// The internal resource workers call on each other (Java's InternalConnectResource).

// Headers of a KIP-507 signed internal request.
const (
	headerSignature          = "X-Connect-Authorization"
	headerSignatureAlgorithm = "X-Connect-Request-Signature-Algorithm"
)

// putTaskConfigs answers POST /connectors/{c}/tasks, through which a worker that generated a
// connector's task configs asks the leader to store them. The raw body and the signature
// headers go to the herder, which verifies them before anything else.
func (s *Server) putTaskConfigs(x *exchange) (reply, error) {
	name, err := connectorName(x.r)
	if err != nil {
		return reply{}, err
	}
	data, err := readBody(x.w, x.r)
	if err != nil {
		return reply{}, err
	}
	configs, err := decodeTaskConfigs(data)
	if err != nil {
		return reply{}, err
	}
	x.forwardBody = configs
	sig, alg := x.r.Header.Get(headerSignature), x.r.Header.Get(headerSignatureAlgorithm)
	if err := s.herder.PutTaskConfigs(x.ctx(), name, configs, data, sig, alg); err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusNoContent}, nil
}
