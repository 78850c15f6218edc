/*
 * netlink.c - lab 10: the veth pair, by rtnetlink requests built with
 * libmnl.  Section 4 of the handout.  These functions print nothing: they
 * return -1 with errno set to the kernel's answer.
 */
#include "container.h"

#include <errno.h>

int net_veth_create(const char *host, const char *peer, pid_t pid)
{
	/* TODO: RTM_NEWLINK for host, IFLA_LINKINFO { KIND "veth", DATA {
	 * VETH_INFO_PEER { ifinfomsg, IFLA_IFNAME peer, IFLA_NET_NS_PID pid } } },
	 * with NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK; read the acknowledgement. */
	(void)host;
	(void)peer;
	(void)pid;
	errno = ENOSYS;
	return -1;
}

int net_addr_add(const char *ifname, const char *addr, int prefix)
{
	/* TODO: RTM_NEWADDR: ifaddrmsg (AF_INET, prefix, index of ifname),
	 * IFA_LOCAL and IFA_ADDRESS the address. */
	(void)ifname;
	(void)addr;
	(void)prefix;
	errno = ENOSYS;
	return -1;
}

int net_link_up(const char *ifname)
{
	/* TODO: RTM_NEWLINK for ifname with ifi_change and ifi_flags IFF_UP. */
	(void)ifname;
	errno = ENOSYS;
	return -1;
}

int net_link_delete(const char *ifname)
{
	/* TODO: RTM_DELLINK for ifname. */
	(void)ifname;
	errno = ENOSYS;
	return -1;
}
