module integration-gitops/bench/standin

go 1.26
