// The pod sandbox's process for the node tier's containerd (tools/cluster/build.py builds it,
// tools/node/images.py puts it in an image): no registry serves registry.k8s.io/pause here.
module example.org/integration-gitops/tools/cluster/pause

go 1.26.0
