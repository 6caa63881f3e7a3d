// Package v1alpha1 contains the API of the realtime operator: the RealtimeCluster (a fleet of
// realtime nodes spread over regions) and the Tenant (one project served by such a cluster).
//
// The package is data plus pure methods, following CloudNativePG: *_types.go hold the schema,
// *_funcs.go the helpers, *_defaults.go the defaults applied in Go at reconcile start, and
// conditions.go the typed condition types and reasons.
//
// +kubebuilder:object:generate=true
// +groupName=realtime.realtimeops.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every object in this package.
	GroupVersion = schema.GroupVersion{Group: "realtime.realtimeops.io", Version: "v1alpha1"}

	// SchemeBuilder registers the Go types with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this group-version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
