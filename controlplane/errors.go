package controlplane

import (
	"fmt"
	"net/http"
)

// Error is a PrivateLink API error: it implements rpc.APIError, so the RPC
// server writes it with its status and code.
type Error struct {
	Code    string
	Status  int
	Message string
}

// Error returns the message alone: the RPC server writes it as the body's
// Message next to the Code, and clients show both.
func (e *Error) Error() string     { return e.Message }
func (e *Error) HTTPStatus() int   { return e.Status }
func (e *Error) ErrorCode() string { return e.Code }

// errKind is one row of the error table: the code, its HTTP status and the
// message format its arguments fill.
type errKind struct {
	code   string
	status int
	format string
}

func (k errKind) with(args ...any) *Error {
	return &Error{Code: k.code, Status: k.status, Message: fmt.Sprintf(k.format, args...)}
}

// The error table, in the API's terms. Codes come from the PrivateLink
// error table and the codes clients handle for these actions (reference §B,
// §D18); the NotFound family answers 404 like the gateway's other NotFound
// codes, everything else 400.
var (
	errMissingParameter = errKind{"MissingParameter", http.StatusBadRequest,
		"The input parameter %q that is mandatory for processing this request is not supplied."}
	errInvalidParameter = errKind{"InvalidParameter", http.StatusBadRequest,
		"The specified parameter %q is not valid: %s"}
	errDryRun = errKind{"DryRunOperation", http.StatusBadRequest,
		"Request validation has been passed with DryRun flag set."}
	errIdemMismatch = errKind{"IdempotenceSignatureMismatch", http.StatusBadRequest,
		"The ClientToken %q was used before with different parameters."}
	errUnsupportedRegion = errKind{"UnsupportedRegion", http.StatusBadRequest,
		"The region %q is not supported; this lab serves %s."}
	errUnsupportedZone = errKind{"UnsupportedZone", http.StatusBadRequest,
		"The zone %q is not supported: %s"}

	errEndpointNotFound = errKind{"EndpointNotFound", http.StatusNotFound,
		"The specified endpoint %s is not found."}
	errServiceNotFound = errKind{"EndpointServiceNotFound", http.StatusNotFound,
		"The specified endpoint service %s is not found."}
	errConnectionNotFound = errKind{"EndpointConnectionNotFound", http.StatusNotFound,
		"The endpoint connection between %s and %s is not found."}
	errZoneNotFound = errKind{"EndpointZoneNotFound", http.StatusNotFound,
		"The zone %s is not found on endpoint %s."}
	errVpcNotFound = errKind{"InvalidVpcId.NotFound", http.StatusNotFound,
		"The specified VPC %s is not found."}
	errVSwitchNotFound = errKind{"InvalidVSwitchId.NotFound", http.StatusNotFound,
		"The specified vSwitch %s is not found."}
	errSGNotFound = errKind{"InvalidSecurityGroupId.NotFound", http.StatusNotFound,
		"The specified security group %s is not found."}
	errResourceNotFound = errKind{"InvalidResourceId.NotFound", http.StatusNotFound,
		"The specified resource %s is not found."}

	errEndpointLocked = errKind{"EndpointLocked", http.StatusBadRequest,
		"The endpoint %s is being changed (%s); retry when the operation has completed."}
	errServiceLocked = errKind{"EndpointServiceLocked", http.StatusBadRequest,
		"The endpoint service %s is being changed (%s); retry when the operation has completed."}
	errEndpointStatus = errKind{"IncorrectStatus.VpcEndpoint", http.StatusBadRequest,
		"The status of %s [%s] is incorrect: %s"}
	errConnectionStatus = errKind{"IncorrectStatus.VpcEndpointConnection", http.StatusBadRequest,
		"The status of %s [%s] is incorrect: %s"}
	errServiceStatus = errKind{"IncorrectStatus.VpcEndpointService", http.StatusBadRequest,
		"The status of %s [%s] is incorrect: %s"}
	errZoneStatus = errKind{"IncorrectStatus.VpcEndpointZone", http.StatusBadRequest,
		"The status of %s [%s] is incorrect: %s"}
	errServiceDependence = errKind{"EndpointServiceConnectionDependence", http.StatusBadRequest,
		"The endpoint service %s still has %s; remove them first."}
	errEndpointOperationDenied = errKind{"EndpointOperationDenied", http.StatusBadRequest,
		"The operation is denied on endpoint %s: %s"}
	errLastSecurityGroup = errKind{"EndpointOperationDenied.LastSecurityGroup", http.StatusBadRequest,
		"The security group %s is the last one of endpoint %s and cannot be detached."}
	errResourceUnsupported = errKind{"ResourceNotSupported", http.StatusBadRequest,
		"The resource %s cannot be a service resource: %s"}
	errResourceAttached = errKind{"ResourceAlreadyAttached", http.StatusBadRequest,
		"The resource %s is already attached to endpoint service %s."}
	errResourceNotAttached = errKind{"ResourceNotAttached", http.StatusBadRequest,
		"The resource %s is not attached to endpoint service %s."}
	errResourceInUse = errKind{"ResourceInUse", http.StatusBadRequest,
		"The resource %s is used by %d endpoint zone connection(s); migrate or disconnect them first."}
	errLastAutoAllocated = errKind{"EndpointServiceOperationDenied.LastAutoAllocatedResource", http.StatusBadRequest,
		"The resource %s is the last automatically allocatable resource in zone %s."}
	errReplacedAutoAllocated = errKind{"EndpointServiceOperationDenied.ResourceAutoAllocated", http.StatusBadRequest,
		"The resource %s still allows automatic allocation; disable it (UpdateVpcEndpointServiceResourceAttribute AutoAllocatedEnabled=false) before replacing it in zone %s."}
	errNoResource = errKind{"EndpointServiceResourceNotFound", http.StatusBadRequest,
		"The endpoint service %s has no allocatable resource in zone %s."}
	errIPUnavailable = errKind{"InvalidIp.Unavailable", http.StatusBadRequest,
		"The IP address %s is not available in vSwitch %s: %s"}
	errVSwitchFull = errKind{"VSwitchIpNotEnough", http.StatusBadRequest,
		"The vSwitch %s has no free IP address left."}
	errZoneExists = errKind{"EndpointZoneAlreadyExists", http.StatusBadRequest,
		"The zone %s is already on endpoint %s."}
	errZoneLimit = errKind{"QuotaExceeded.EndpointZone", http.StatusBadRequest,
		"The endpoint %s can have at most %d zone(s), the number of zones of its service."}
	errTagLimit = errKind{"QuotaExceeded.Tag", http.StatusBadRequest,
		"The resource %s would have %d tags; at most %d are allowed."}
	errNeedOpenProduct = errKind{"NeedOpenProduct", http.StatusBadRequest,
		"PrivateLink is not activated for account %s; activate it with OpenPrivateLinkService."}
	errAlreadyOpened = errKind{"ORDER.OPEND", http.StatusBadRequest,
		"PrivateLink is already activated for account %s."}
	errUserExists = errKind{"EndpointServiceUserExists", http.StatusBadRequest,
		"The user %s is already on the whitelist of endpoint service %s."}
	errUserNotFound = errKind{"EndpointServiceUserNotFound", http.StatusBadRequest,
		"The user %s is not on the whitelist of endpoint service %s."}
)

func missing(name string) *Error               { return errMissingParameter.with(name) }
func invalid(name, why string) *Error          { return errInvalidParameter.with(name, why) }
func invalidf(name, f string, a ...any) *Error { return invalid(name, fmt.Sprintf(f, a...)) }
