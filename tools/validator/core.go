package main

// The core ("legacy") group. kube-apiserver builds it in k8s.io/kubernetes/pkg/registry/core/rest
// (storage_core.go: legacyProvider.NewRESTStorage), which also starts repair controllers and
// needs a loopback client; this provider builds the same stores with the same arguments, only
// with allocators that live in memory: the node port range and the service CIDR of the flags,
// and the ServiceCIDR object kube-apiserver's defaultservicecidr controller would create.

import (
	"fmt"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	serverstorage "k8s.io/apiserver/pkg/server/storage"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
	api "k8s.io/kubernetes/pkg/apis/core"
	"k8s.io/kubernetes/pkg/features"
	kubeletclient "k8s.io/kubernetes/pkg/kubelet/client"
	endpointsstore "k8s.io/kubernetes/pkg/registry/core/endpoint/storage"
	limitrangestore "k8s.io/kubernetes/pkg/registry/core/limitrange/storage"
	nodestore "k8s.io/kubernetes/pkg/registry/core/node/storage"
	pvstore "k8s.io/kubernetes/pkg/registry/core/persistentvolume/storage"
	pvcstore "k8s.io/kubernetes/pkg/registry/core/persistentvolumeclaim/storage"
	podstore "k8s.io/kubernetes/pkg/registry/core/pod/storage"
	podtemplatestore "k8s.io/kubernetes/pkg/registry/core/podtemplate/storage"
	controllerstore "k8s.io/kubernetes/pkg/registry/core/replicationcontroller/storage"
	corerest "k8s.io/kubernetes/pkg/registry/core/rest"
	"k8s.io/kubernetes/pkg/registry/core/service/ipallocator"
	"k8s.io/kubernetes/pkg/registry/core/service/portallocator"
	servicestore "k8s.io/kubernetes/pkg/registry/core/service/storage"
	netutils "k8s.io/utils/net"
)

type coreProvider struct {
	services   serviceAllocators
	client     *fake.Clientset
	authorizer authorizer.Authorizer
	// The allocators of the Service store. Each Service is created into an empty cluster: its
	// node ports and ClusterIPs are allocated for real (a dry-run create skips the node-port
	// range check: portallocator/operation.go) and released after (release).
	clusterIPs ipallocator.Interface
	nodePorts  *portallocator.PortAllocator
	// released: ClusterIPs given back whose release the allocator may not have seen yet.
	released map[string]bool
	ready    bool // the ClusterIP allocator has been seen to allocate
}

func (p *coreProvider) GroupName() string { return api.GroupName }

// NewRESTStorage is legacyProvider.NewRESTStorage's list of stores, in its order. Long
// because it is that list.
func (p *coreProvider) NewRESTStorage(configSource serverstorage.APIResourceConfigSource, getter generic.RESTOptionsGetter) (genericapiserver.APIGroupInfo, error) {
	generic := corerest.GenericConfig{}
	info, err := generic.NewRESTStorage(configSource, getter)
	if err != nil {
		return info, err
	}
	storage := info.VersionedResourcesStorageMap["v1"]
	if storage == nil {
		storage = map[string]rest.Storage{}
	}
	enabled := func(resource string) bool {
		return configSource.ResourceEnabled(corev1.SchemeGroupVersion.WithResource(resource))
	}

	podTemplates, err := podtemplatestore.NewREST(getter)
	if err != nil {
		return info, err
	}
	limitRanges, err := limitrangestore.NewREST(getter)
	if err != nil {
		return info, err
	}
	volumes, _, err := pvstore.NewREST(getter)
	if err != nil {
		return info, err
	}
	claims, _, err := pvcstore.NewREST(getter)
	if err != nil {
		return info, err
	}
	endpoints, err := endpointsstore.NewREST(getter)
	if err != nil {
		return info, err
	}
	nodes, err := nodestore.NewStorage(getter, kubeletclient.KubeletClientConfig{Port: 10250}, nil)
	if err != nil {
		return info, err
	}
	pods, err := podstore.NewStorage(getter, nodes.KubeletConnectionInfo, nil, p.client.PolicyV1(), p.authorizer)
	if err != nil {
		return info, err
	}
	if p.clusterIPs, err = p.clusterIPAllocator(); err != nil {
		return info, err
	}
	if p.nodePorts, err = portallocator.NewInMemory(p.services.nodePorts); err != nil {
		return info, err
	}
	family := p.clusterIPs.IPFamily()
	services, _, _, err := servicestore.NewREST(getter, family,
		map[api.IPFamily]ipallocator.Interface{family: p.clusterIPs}, p.nodePorts, endpoints, pods.Pod, nil)
	if err != nil {
		return info, err
	}
	controllers, err := controllerstore.NewStorage(getter)
	if err != nil {
		return info, err
	}

	for name, store := range map[string]rest.Storage{
		"pods":                   pods.Pod,
		"podtemplates":           podTemplates,
		"replicationcontrollers": controllers.Controller,
		"services":               services,
		"endpoints":              endpoints,
		"nodes":                  nodes.Node,
		"limitranges":            limitRanges,
		"persistentvolumes":      volumes,
		"persistentvolumeclaims": claims,
	} {
		if enabled(name) {
			storage[name] = store
		}
	}
	info.VersionedResourcesStorageMap["v1"] = storage
	return info, nil
}

// clusterIPAllocator is what kube-apiserver allocates ClusterIPs with at this version
// (storage_core.go newServiceIPAllocators): with MultiCIDRServiceAllocator, a MetaAllocator over
// the ServiceCIDR objects, here the one default ServiceCIDR made from the flag (and, unless
// DisableAllocatorDualWrite, the bitmap it keeps writing); without it, the bitmap alone.
func (p *coreProvider) clusterIPAllocator() (ipallocator.Interface, error) {
	cidr := p.services.clusterIPRange
	if !utilfeature.DefaultFeatureGate.Enabled(features.MultiCIDRServiceAllocator) {
		return ipallocator.NewInMemory(&cidr)
	}
	var bitmap ipallocator.Interface
	if !utilfeature.DefaultFeatureGate.Enabled(features.DisableAllocatorDualWrite) {
		inMemory, err := ipallocator.NewInMemory(&cidr)
		if err != nil {
			return nil, err
		}
		bitmap = inMemory
	}
	// The name and Ready condition kube-apiserver's defaultservicecidr controller gives it.
	defaultCIDR := &networkingv1.ServiceCIDR{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes"},
		Spec:       networkingv1.ServiceCIDRSpec{CIDRs: []string{cidr.String()}},
		Status: networkingv1.ServiceCIDRStatus{Conditions: []metav1.Condition{{
			Type: networkingv1.ServiceCIDRConditionReady, Status: metav1.ConditionTrue,
		}}},
	}
	client := fake.NewSimpleClientset(defaultCIDR)
	factory := informers.NewSharedInformerFactory(client, 0)
	serviceCIDRs, addresses := factory.Networking().V1().ServiceCIDRs(), factory.Networking().V1().IPAddresses()
	// Its informers are started and synced first: the allocator's controller checks its caches
	// at once, then every 100 ms (client-go's WaitForCacheSync), and a first Service would wait
	// that long for it. Synced, the controller picks the ServiceCIDR up in a few ms, in the
	// background; the first Service waits for that (awaitAllocator), documents before it do not.
	if err := startSynced(factory, serviceCIDRs.Informer(), addresses.Informer()); err != nil {
		return nil, err
	}
	return ipallocator.NewMetaAllocator(client.NetworkingV1(), serviceCIDRs, addresses, netutils.IsIPv6CIDR(&cidr), bitmap)
}

// startSynced starts the factory's informers and waits until these have listed their objects.
func startSynced(factory informers.SharedInformerFactory, synced ...cache.SharedIndexInformer) error {
	factory.Start(make(chan struct{}))
	deadline := time.Now().Add(10 * time.Second)
	for _, informer := range synced {
		for !informer.HasSynced() {
			if time.Now().After(deadline) {
				return fmt.Errorf("the ClusterIP allocator's informers never synced")
			}
			time.Sleep(time.Millisecond)
		}
	}
	return nil
}

// release gives back what a Service create allocated (a failed create has already rolled its
// allocations back). The MetaAllocator learns of a released ClusterIP through its IPAddress
// informer, a moment later: a Service asking for that address waits for it (awaitReleased).
func (p *coreProvider) release(created runtime.Object) error {
	service, ok := created.(*api.Service)
	if !ok {
		return nil
	}
	for _, port := range service.Spec.Ports {
		if port.NodePort != 0 {
			_ = p.nodePorts.Release(int(port.NodePort))
		}
	}
	if service.Spec.HealthCheckNodePort != 0 {
		_ = p.nodePorts.Release(int(service.Spec.HealthCheckNodePort))
	}
	for _, text := range service.Spec.ClusterIPs {
		ip := netutils.ParseIPSloppy(text)
		if ip == nil {
			continue // "None": headless
		}
		if err := p.clusterIPs.Release(ip); err != nil {
			return err
		}
		if p.released == nil {
			p.released = map[string]bool{}
		}
		p.released[ip.String()] = true
	}
	return nil
}

// awaitAllocator waits until the ClusterIP allocator is ready and the ClusterIPs the Service
// asks for, if released before, are free again.
func (p *coreProvider) awaitAllocator(obj runtime.Object) error {
	if !p.ready {
		if err := waitReady(p.clusterIPs, p.services.clusterIPRange); err != nil {
			return err
		}
		p.ready = true
	}
	service, ok := obj.(*api.Service)
	if !ok || len(p.released) == 0 {
		return nil
	}
	for _, text := range append([]string{service.Spec.ClusterIP}, service.Spec.ClusterIPs...) {
		ip := netutils.ParseIPSloppy(text)
		if ip == nil || !p.released[ip.String()] {
			continue
		}
		if err := waitAllocatable(p.clusterIPs, ip); err != nil {
			return err
		}
		delete(p.released, ip.String())
	}
	return nil
}

// waitReady waits for the allocator's controller to have picked up the default ServiceCIDR: a
// dry-run allocation of an address of the range then succeeds.
func waitReady(allocator ipallocator.Interface, cidr net.IPNet) error {
	probe, err := netutils.GetIndexedIP(&cidr, 10)
	if err != nil {
		return err
	}
	return waitAllocatable(allocator, probe)
}

func waitAllocatable(allocator ipallocator.Interface, probe net.IP) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := allocator.DryRun().Allocate(probe)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the ClusterIP allocator never offered %s: %v", probe, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
