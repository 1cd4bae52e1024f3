package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Recover restarts an expired session whose merchant allows recovery as a
// new open child: same items, URLs and settings, a fresh expiry. Once a
// child exists, recovering again returns it, whatever its state, rather than
// making another: a double click, a second tab or the back button lead the
// shopper to the same checkout, and a paid order is never offered twice.
func (s *Store) Recover(ctx context.Context, parentID string) (*Session, error) {
	parent, err := s.Session(ctx, parentID)
	if err != nil {
		return nil, err
	}
	if parent.Status != StatusExpired || !parent.RecoveryEnabled {
		return nil, Errorf(ESTATE, "checkout session %s cannot be recovered", parentID)
	}
	now := s.now()
	if parent.SettledBy == "" && now.Unix() >= parent.RecoveryEnds() {
		return nil, Errorf(ESTATE, "checkout session %s can no longer be recovered: its recovery window ended", parentID)
	}
	m, err := s.Merchant(ctx, parent.MerchantID)
	if err != nil {
		return nil, err
	}
	p := parent.params()
	p.ParentID = parent.ID
	child, err := p.build(m, parent.Livemode, now)
	if err != nil {
		return nil, fmt.Errorf("store: recover %s: %w", parentID, err)
	}
	// The child lives no longer than the parent may be recovered.
	child.ExpiresAt = min(child.ExpiresAt, parent.RecoveryEnds())
	child.ID = newID("cs_" + modePrefix(parent.Livemode))
	var childID string
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		// Recoveries of one parent queue on its row (SQLite's BEGIN
		// IMMEDIATE already serialises writers), so only one finds no child.
		if s.engine == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT 1 FROM checkout_sessions WHERE id = $1 FOR UPDATE`, parentID); err != nil {
				return err
			}
		}
		err := tx.GetContext(ctx, &childID, tx.Rebind(`SELECT id FROM checkout_sessions
			WHERE parent_id = ? ORDER BY seq DESC LIMIT 1`), parentID)
		if ErrorCode(mapErr(err)) != ENOTFOUND {
			return err
		}
		return s.insertSession(ctx, tx, child)
	})
	if err != nil {
		return nil, fmt.Errorf("store: recover %s: %w", parentID, err)
	}
	if childID != "" {
		return s.Session(ctx, childID)
	}
	return child, nil
}

// RecoveryEnds is the unix second from which an expired session can no
// longer be recovered (RecoveryWindow after it expired).
func (s *Session) RecoveryEnds() int64 {
	at := s.ExpiresAt
	if s.ExpiredAt != nil {
		at = *s.ExpiredAt
	}
	return at + int64(RecoveryWindow/time.Second)
}

// params rebuilds creation parameters from a stored session (for recovery).
func (s *Session) params() *SessionParams {
	p := &SessionParams{
		Mode: s.Mode, Currency: s.Currency, Customer: s.CustomerID, Guest: s.Guest,
		ClientReferenceID: s.ClientReferenceID, SuccessURL: s.SuccessURL, CancelURL: s.CancelURL,
		PendingURL: s.PendingURL, ReturnURL: s.ReturnURL, AfterCompletion: &s.AfterCompletion,
		Locale: s.Locale, Appearance: s.Appearance, CustomText: &s.CustomText,
		PaymentMethodTypes: s.PaymentMethodTypes, WalletOptions: s.WalletOptions,
		DisplayCurrency: s.DisplayCurrency, Metadata: s.Metadata, Attribution: s.Attribution,
		Contract: s.Contract, Estimate: s.Estimate, CorrelationID: s.CorrelationID,
		RecoveryEnabled: &s.RecoveryEnabled, ContractID: s.ContractID, ExecutionID: s.ExecutionID,
		BusinessEntityID: s.BusinessEntityID, ClientCustomerID: s.ClientCustomerID, Description: s.Description,
		SubmitType: s.SubmitType, BillingAddressCollection: s.BillingAddressCollection,
		CustomerCreation: s.CustomerCreation,
	}
	cust := s.Customer
	p.CustomerDetails = &cust
	for _, li := range s.LineItems {
		// The same prices as the parent's, under the same ids.
		p.LineItems = append(p.LineItems, LineItemParams{Quantity: li.Quantity, TaxAmount: li.AmountTax,
			Price: li.PriceID, stored: &storedPrice{PriceID: li.PriceID, ProductID: li.ProductID,
				Currency: s.Currency, Name: li.Name, Description: li.Description, Images: li.Images,
				UnitAmount: li.UnitAmount, Interval: li.RecurringInterval, Count: li.RecurringIntervalCount,
				UnitLabel: li.UnitLabel, LookupKey: li.LookupKey}, Metadata: li.Metadata})
	}
	for _, a := range s.Adjustments {
		p.Fees = append(p.Fees, AdjustmentParams{Type: a.Kind, Label: a.Label, Amount: a.Amount})
	}
	return p
}
