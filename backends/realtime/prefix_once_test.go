package realtime

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOptionErrorsNameTheLibraryOnce(t *testing.T) {
	_, err := (&Config{}).Open("ps_endpoints", &Options{AllowUnqualifiedFetch: "sometimes"})
	require.Error(t, err)
	assert.Equal(t, 1, strings.Count(err.Error(), "sorcery:"), err.Error())
}
