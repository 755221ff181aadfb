package memstore_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/adapters/memstore"
	"github.com/gatehouse-auth/gatehouse/test/contract"
)

func TestContract(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Subject {
		s := memstore.New()
		return contract.Subject{Stores: s.Stores(), Transactor: s}
	})
}
