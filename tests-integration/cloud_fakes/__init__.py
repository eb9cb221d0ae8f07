"""Stand-ins for what cannot run here, used by the cloud provider tests: a local "VM" that runs
an instance's boot script as a process group (:mod:`.vm`), a hypervisor stand-in for moto's
EC2 (:mod:`.ec2_hypervisor`), and REST fakes of Google Compute Engine, Azure Resource Manager
and OpenStack (Keystone, Nova, Neutron) that the real SDK clients talk to over HTTP."""
