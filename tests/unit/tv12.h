/*
 * TV-12 V1 of test-vectors.md as published: the base64url header, payload
 * and signature of the PASSporT signed with the RFC 8946 key. Tests that
 * compare byte for byte take them from here.
 */
#ifndef TV12_H
#define TV12_H

#define V1_H                                                                                       \
    "eyJhbGciOiJFUzI1NiIsInBwdCI6InNoYWtlbiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4" \
    "YW1wbGUub3JnL3Bhc3Nwb3J0LmNlciJ9"
#define V1_P                                                                                       \
    "eyJhdHRlc3QiOiJBIiwiZGVzdCI6eyJ0biI6WyIxMjE1NTU1MDEzMSJdfSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7" \
    "InRuIjoiMTIxNTU1NTAxMjEifSwib3JpZ2lkIjoiMTIzZTQ1NjctZTg5Yi0xMmQzLWE0NTYtNDI2NjU1NDQwMDAwIn0"
#define V1_S \
    "BuOEj7jvXtnbzdCr8wbRgkqvUU7mhB96bmzgU5u7kTDmEIpts_ziGWeGPGroPgI5tb7RWl8HdWk_91EupeMMfA"

#endif
