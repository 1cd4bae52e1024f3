// Package docs holds paypage's API documents; the OpenAPI description is
// embedded so that the server can serve the very file that is in the repo.
package docs

import _ "embed"

// OpenAPI is docs/openapi.json: the OpenAPI 3.1 description of the JSON API.
//
//go:embed openapi.json
var OpenAPI []byte
