package openresponses

import "github.com/openclaw/openclaw-go/pkg/jsonview"

// object is a view of a JSON object of the request body (see jsonview).
type object = jsonview.Object
