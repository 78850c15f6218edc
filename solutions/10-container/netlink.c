/*
 * netlink.c - reference solution of lab 10: the veth pair, by rtnetlink.
 *
 * Each function builds one request - what `ip link add`, `ip addr add`,
 * `ip link set up` and `ip link del` send - asks the kernel for an
 * acknowledgement (NLM_F_ACK), and turns the error in that acknowledgement
 * into errno.  The requests go to the network namespace of the socket, that
 * is of the caller when it opens it.
 */
#include "container.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h> /* if_nametoindex, IFF_UP; not <linux/if.h>, which clashes with it */
#include <string.h>
#include <time.h>

/* Sends one request and waits for its acknowledgement: 0, or -1 with errno
 * set to the error the kernel answered. */
static int rtnl_request(struct nlmsghdr *nlh)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -1;
	int ret = -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0) {
		unsigned int portid = mnl_socket_get_portid(nl);
		nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
		nlh->nlmsg_seq = (unsigned int)time(NULL);
		if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) >= 0) {
			char buf[MNL_SOCKET_BUFFER_SIZE];
			ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
			/* mnl_cb_run sets errno from an NLMSG_ERROR that is not 0. */
			ret = n < 0 ? -1 : mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, NULL, NULL);
			ret = ret < 0 ? -1 : 0;
		}
	}
	int err = errno;
	mnl_socket_close(nl);
	errno = err;
	return ret;
}

/* A link request: header, struct ifinfomsg, and the link's name. */
static struct nlmsghdr *link_message(char *buf, uint16_t type, uint16_t flags, const char *ifname)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	return nlh;
}

int net_veth_create(const char *host, const char *peer, pid_t pid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_message(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, host);
	/* IFLA_LINKINFO { KIND "veth", DATA { VETH_INFO_PEER { ifinfomsg, attributes } } }:
	 * the peer is described like a link of its own, inside the request. */
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	struct nlattr *peer_info = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	/* Born in the container's namespace: never visible on the host. */
	mnl_attr_put_u32(nlh, IFLA_NET_NS_PID, (uint32_t)pid);
	mnl_attr_nest_end(nlh, peer_info);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return rtnl_request(nlh);
}

int net_link_up(const char *ifname)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_message(buf, RTM_NEWLINK, 0, ifname);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	/* ifi_change says which flags to change; ifi_flags their new value. */
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = IFF_UP;
	return rtnl_request(nlh);
}

int net_link_delete(const char *ifname)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	return rtnl_request(link_message(buf, RTM_DELLINK, 0, ifname));
}

int net_addr_add(const char *ifname, const char *addr, int prefix)
{
	struct in_addr in;
	if (inet_pton(AF_INET, addr, &in) != 1 || prefix < 0 || prefix > 32) {
		errno = EINVAL;
		return -1;
	}
	/* Addresses name their link by index, not by name. */
	unsigned int index = if_nametoindex(ifname);
	if (index == 0)
		return -1;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = index;
	/* IFA_LOCAL is the interface's address; IFA_ADDRESS the peer's, the
	 * same on a link that is not point to point. */
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(in), &in);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(in), &in);
	return rtnl_request(nlh);
}
