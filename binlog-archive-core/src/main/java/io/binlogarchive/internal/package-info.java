/**
 * Implementation details shared by several packages (layout of keys, JSON, digests, fsync helpers),
 * and the bridges through which they reach package-private methods of API classes ({@code
 * CryptoAccess}, held by a {@code Loan}) instead of those methods being public.
 * No compatibility promise: anything here may change in any release.
 */
package io.binlogarchive.internal;
