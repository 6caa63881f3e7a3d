package controllers

// Permissions of the operator (config/rbac/role.yaml is generated from these markers). The
// operator must hold every permission it grants the node Role (RBAC escalation prevention).
//
// RealtimeClusters are only read (their children carry owner references with blockOwnerDeletion,
// which needs update on realtimeclusters/finalizers); Tenants are patched to add and remove the
// slot finalizer; both statuses are patched. Secrets are created for generated inter-node
// secrets, and patched only to add and remove the finalizer that keeps a tenant's database
// password readable until its replication slot was dropped (namespace deletion).
//
// +kubebuilder:rbac:groups=realtime.realtimeops.io,resources=realtimeclusters,verbs=get;list;watch
// +kubebuilder:rbac:groups=realtime.realtimeops.io,resources=tenants,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=realtime.realtimeops.io,resources=realtimeclusters/status;tenants/status,verbs=get;patch
// +kubebuilder:rbac:groups=realtime.realtimeops.io,resources=realtimeclusters/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=statefulsets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services;serviceaccounts,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods;nodes,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
