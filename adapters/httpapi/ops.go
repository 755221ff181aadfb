package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handlers for the people and machines that operate the service: the
// liveness and readiness probes and the Prometheus metrics.

// readyTimeout bounds the readiness check: a probe that waits longer than a
// load balancer does tells it nothing.
const readyTimeout = 2 * time.Second

// Errors of the readiness probe: errDraining once shutdown has begun,
// errNotReady wrapping the check's failure, whatever it is.
var (
	errDraining = errors.New("httpapi: shutting down")
	errNotReady = errors.New("httpapi: not ready")
)

// statusDTO is the body of a successful probe.
type statusDTO struct {
	Status string `json:"status"`
}

// healthz answers as long as the process serves HTTP at all. It checks
// nothing else, the database least of all: a liveness probe that failed
// with the database would have every replica restarted during an outage,
// which only makes it worse.
func (s *server) healthz(c echo.Context) error {
	return writeJSON(c, http.StatusOK, statusDTO{Status: "ok"})
}

// readyz answers whether this instance should be sent requests: not once
// it is shutting down, and not while its database does not answer a query.
func (s *server) readyz(c echo.Context) error {
	if s.isDraining() {
		return errDraining
	}
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			return fmt.Errorf("%w: %w", errNotReady, err)
		}
	}
	return writeJSON(c, http.StatusOK, statusDTO{Status: "ready"})
}

// isDraining reports whether shutdown has begun.
func (s *server) isDraining() bool {
	select {
	case <-s.draining:
		return true
	default:
		return false
	}
}

// metricsHandler serves the registry in Prometheus's text format (or in
// another format Prometheus asks for); a collector that fails is logged and
// left out rather than failing the scrape.
func (s *server) metricsHandler() echo.HandlerFunc {
	h := promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{
		ErrorLog:      slogErrorLog{s},
		ErrorHandling: promhttp.ContinueOnError,
	})
	return echo.WrapHandler(h)
}

// slogErrorLog is promhttp's error log on the server's logger.
type slogErrorLog struct{ s *server }

func (l slogErrorLog) Println(v ...any) {
	l.s.log.Error("metrics: gathering failed", "error", fmt.Sprint(v...))
}
