package filter

// Protocol sets a service name is defined for, as in /etc/services.
const (
	svcTCP = 1 << iota
	svcUDP
)

type service struct {
	port  uint16
	proto uint8 // svcTCP, svcUDP or both
}

// services is a small built-in copy of Debian netbase 6.4 /etc/services
// for the names network engineers type. Like libpcap, a name defined for
// TCP only matches TCP only, one defined for both matches TCP, UDP and SCTP.
var services = map[string]service{
	"ftp-data":      {20, svcTCP},
	"ftp":           {21, svcTCP},
	"ssh":           {22, svcTCP},
	"telnet":        {23, svcTCP},
	"smtp":          {25, svcTCP},
	"mail":          {25, svcTCP},
	"domain":        {53, svcTCP | svcUDP},
	"bootps":        {67, svcUDP},
	"bootpc":        {68, svcUDP},
	"tftp":          {69, svcUDP},
	"http":          {80, svcTCP},
	"www":           {80, svcTCP},
	"kerberos":      {88, svcTCP | svcUDP},
	"pop3":          {110, svcTCP},
	"sunrpc":        {111, svcTCP | svcUDP},
	"portmapper":    {111, svcTCP | svcUDP},
	"auth":          {113, svcTCP},
	"ident":         {113, svcTCP},
	"nntp":          {119, svcTCP},
	"ntp":           {123, svcUDP},
	"netbios-ns":    {137, svcUDP},
	"netbios-dgm":   {138, svcUDP},
	"netbios-ssn":   {139, svcTCP},
	"imap2":         {143, svcTCP},
	"imap":          {143, svcTCP},
	"snmp":          {161, svcTCP | svcUDP},
	"snmp-trap":     {162, svcTCP | svcUDP},
	"snmptrap":      {162, svcTCP | svcUDP},
	"bgp":           {179, svcTCP},
	"ldap":          {389, svcTCP | svcUDP},
	"https":         {443, svcTCP | svcUDP},
	"microsoft-ds":  {445, svcTCP},
	"kpasswd":       {464, svcTCP | svcUDP},
	"isakmp":        {500, svcUDP},
	"syslog":        {514, svcUDP},
	"dhcpv6-client": {546, svcUDP},
	"dhcpv6-server": {547, svcUDP},
	"rtsp":          {554, svcTCP | svcUDP},
	"submission":    {587, svcTCP},
	"ldaps":         {636, svcTCP | svcUDP},
	"domain-s":      {853, svcTCP | svcUDP},
	"rsync":         {873, svcTCP},
	"imaps":         {993, svcTCP},
	"pop3s":         {995, svcTCP},
	"socks":         {1080, svcTCP},
	"openvpn":       {1194, svcTCP | svcUDP},
	"ms-sql-s":      {1433, svcTCP},
	"radius":        {1812, svcTCP | svcUDP},
	"nfs":           {2049, svcTCP | svcUDP},
	"mysql":         {3306, svcTCP},
	"ms-wbt-server": {3389, svcTCP},
	"ipsec-nat-t":   {4500, svcUDP},
	"sip":           {5060, svcTCP | svcUDP},
	"xmpp-client":   {5222, svcTCP},
	"mdns":          {5353, svcUDP},
	"postgresql":    {5432, svcTCP},
	"postgres":      {5432, svcTCP},
	"x11":           {6000, svcTCP},
	"redis":         {6379, svcTCP},
	"http-alt":      {8080, svcTCP},
	"webcache":      {8080, svcTCP},
}

// ipProtocols maps the names accepted after "proto" (with or without the
// backslash tcpdump needs for keywords: "proto \tcp") to protocol numbers,
// from /etc/protocols. "icmp6" is an extra alias of ipv6-icmp.
var ipProtocols = map[string]uint8{
	"icmp":       1,
	"igmp":       2,
	"ipencap":    4,
	"tcp":        6,
	"egp":        8,
	"udp":        17,
	"dccp":       33,
	"ipv6":       41,
	"ipv6-route": 43,
	"ipv6-frag":  44,
	"rsvp":       46,
	"gre":        47,
	"esp":        50,
	"ah":         51,
	"ipv6-icmp":  58,
	"icmp6":      58,
	"ipv6-nonxt": 59,
	"ipv6-opts":  60,
	"eigrp":      88,
	"ospf":       89,
	"ipip":       94,
	"pim":        103,
	"vrrp":       112,
	"l2tp":       115,
	"sctp":       132,
	"udplite":    136,
}

// protoAbbrev describes the standalone protocol keywords: "tcp" is
// "ip proto 6 or ip6 proto 6", "icmp" is "ip proto 1"...
type protoAbbrev struct {
	ipver uint8 // 0: IPv4 or IPv6
	num   uint8
}

var protoAbbrevs = map[string]protoAbbrev{
	"tcp":   {0, 6},
	"udp":   {0, 17},
	"sctp":  {0, 132},
	"icmp":  {4, 1},
	"icmp6": {6, 58},
	"igmp":  {4, 2},
	"vrrp":  {4, 112},
	"pim":   {0, 103},
	"ah":    {0, 51},
	"esp":   {0, 50},
}

// unsupportedKeywords are pcap-filter(7) keywords outside the supported
// subset: they give a "not supported" error rather than a syntax error.
var unsupportedKeywords = map[string]bool{
	"gateway": true, "broadcast": true, "multicast": true, "protochain": true,
	"link": true, "ether": true, "ppp": true, "slip": true, "fddi": true,
	"tr": true, "wlan": true, "arp": true, "rarp": true, "igrp": true,
	"carp": true, "radio": true, "atalk": true, "aarp": true, "decnet": true,
	"lat": true, "sca": true, "moprc": true, "mopdl": true, "iso": true,
	"esis": true, "es-is": true, "isis": true, "is-is": true, "l1": true,
	"l2": true, "iih": true, "lsp": true, "snp": true, "csnp": true,
	"psnp": true, "clnp": true, "stp": true, "ipx": true, "netbeui": true,
	"mpls": true, "pppoed": true, "pppoes": true, "geneve": true,
	"vxlan": true, "lane": true, "llc": true, "metac": true, "bcc": true,
	"oam": true, "oamf4": true, "oamf5": true, "sc": true, "ilmic": true,
	"connectmsg": true, "metaconnect": true, "vpi": true, "vci": true,
	"on": true, "ifname": true, "rnr": true, "rulenum": true,
	"reason": true, "rset": true, "ruleset": true, "srnr": true,
	"subrulenum": true, "action": true, "fisu": true, "lssu": true,
	"lsu": true, "msu": true, "hfisu": true, "hlssu": true, "hmsu": true,
	"sio": true, "opc": true, "dpc": true, "sls": true, "hsio": true,
	"hopc": true, "hdpc": true, "hsls": true, "type": true, "subtype": true,
	"dir": true, "address1": true, "address2": true, "address3": true,
	"address4": true, "addr1": true, "addr2": true, "addr3": true,
	"addr4": true, "ra": true, "ta": true, "inbound": true,
	"outbound": true, "ifindex": true, "len": true, "byte": true,
	"tcpflags": true, "icmptype": true, "icmpcode": true,
	"icmp6type": true, "icmp6code": true,
}

// supportedKeywords are the keywords of the supported subset (and, or, not
// are operators, see lex).
var supportedKeywords = map[string]bool{
	"host": true, "net": true, "mask": true, "port": true, "portrange": true,
	"proto": true, "src": true, "dst": true, "ip": true, "ip6": true,
	"tcp": true, "udp": true, "sctp": true, "icmp": true, "icmp6": true,
	"igmp": true, "pim": true, "vrrp": true, "ah": true, "esp": true,
	"vlan": true, "less": true, "greater": true,
}
